/*
Copyright 2026 The bitcoin-network-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package nodes

import (
	"context"
	"time"

	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// maxBlocksPerCall bounds one generatetoaddress call: a pass mines at most
// this many blocks, and the next pass (a second later) goes on.
const maxBlocksPerCall = 100

// afterMining is how soon a pass follows one that mined: the status then
// shows the new heights, and the nodes' sync.
const afterMining = time.Second

// SettleLook is how far apart the two looks at the miner's height are that
// must agree before it mines after a call that may still run.
const SettleLook = time.Second

// miningStep is what a pass should mine on a regtest network.
type miningStep struct {
	// blocks to mine now on the miner (0: none).
	blocks int
	// initialDone is the height at which the initial blocks are complete,
	// when this pass found them so (0: not yet).
	initialDone int64
	// wait is how long until a block is due, with spec.regtest.blockInterval.
	wait time.Duration
}

// planMining decides what to mine, from the spec, what was recorded, the
// miner's height and whether every planned connection is up. The initial
// blocks are mined once: never when a height was recorded, and only up to
// spec.regtest.initialBlocks whatever the chain holds, so a restarted
// operator or node mines nothing twice.
func planMining(spec *v1alpha1.RegtestSpec, recorded int64, connected bool, height int64, lastBlock, now time.Time) miningStep {
	var step miningStep
	if !connected {
		return step
	}
	want := int64(spec.InitialBlocks)
	if want > 0 && recorded == 0 {
		if height >= want {
			step.initialDone = height
			return step
		}
		step.blocks = int(min(want-height, maxBlocksPerCall))
		if height+int64(step.blocks) >= want {
			step.initialDone = want
		}
		return step
	}
	if spec.BlockInterval == nil {
		return step
	}
	interval := spec.BlockInterval.Duration
	if since := now.Sub(lastBlock); !lastBlock.IsZero() && since < interval {
		step.wait = interval - since
		return step
	}
	step.blocks, step.wait = 1, interval
	return step
}

// settle says whether a mining call that may still run on the miner has
// stopped: its height unchanged over two looks at least SettleLook apart.
// Bitcoin Core's generatetoaddress mines every block it was asked for even
// after the client gave up (a deadline, a shutdown, a leader hand-over), so
// mining again before it stops would mine twice. A new operator process
// cannot know what an earlier one left running: it starts unsettled.
func settle(m netstate.Mining, node string, height int64, now time.Time) (netstate.Mining, bool) {
	if m.Settled {
		return m, true
	}
	m.Look, m.Settled = lookAgain(m.Look, node, height, now)
	return m, m.Settled
}

// lookAgain takes a look at a miner after last: the miner is settled when
// last saw the same node at the same height at least SettleLook ago (the
// look is then spent); otherwise it returns the look to keep, last itself
// while node and height are unchanged, so that the two looks end apart.
func lookAgain(last netstate.Look, node string, height int64, now time.Time) (netstate.Look, bool) {
	if last.Node != node || last.Height != height || last.At.IsZero() {
		return netstate.Look{Node: node, Height: height, At: now}, false
	}
	if now.Sub(last.At) >= SettleLook {
		return netstate.Look{}, true
	}
	return last, false
}

// miner is the node that mines, as this pass saw it.
type miner struct {
	name string
	node bitcoin.Node
	// height is its best chain's height; atTip is true when its best block
	// is the network's tip (mining elsewhere would fork the chain).
	height int64
	atTip  bool
	// connected is true when every node answered and every planned
	// connection is up.
	connected bool
}

// mine mines what planMining says on node 0, when it is at the network's
// tip and no earlier call can still be running, and returns what was mined
// so far and how soon the next pass should run (0: no hurry).
func (p *pass) mine(ctx context.Context, report peering.Report, chains []status.NodeChain) (*status.Mining, time.Duration) {
	m := p.miner(report, chains)
	var mem netstate.Mining
	p.st.Update(func(d *netstate.Data) { mem = d.Mining })
	if old := p.n.Status.Mining; old != nil {
		mem.InitialBlocksHeight = max(mem.InitialBlocksHeight, old.InitialBlocksHeight)
		if mem.LastBlockTime.IsZero() && old.LastBlockTime != nil {
			mem.LastBlockHeight, mem.LastBlockTime = old.LastBlockHeight, old.LastBlockTime.Time
		}
	}
	mem, soon := p.mineStep(ctx, m, mem)
	p.st.Update(func(d *netstate.Data) { d.Mining = mem })
	mined := mem.Mining
	mined.Node = m.name
	return &mined, soon
}

// mineStep is one pass's mining on m, from and to what is remembered.
func (p *pass) mineStep(ctx context.Context, m miner, mem netstate.Mining) (netstate.Mining, time.Duration) {
	log := logf.FromContext(ctx)
	step := planMining(resources.MiningSpec(p.n), mem.InitialBlocksHeight, m.connected && m.atTip, m.height, mem.LastBlockTime, p.now)
	soon := step.wait
	if step.blocks > 0 {
		var settled bool
		if mem, settled = settle(mem, m.name, m.height, p.now); !settled {
			return mem, SettleLook
		}
		callCtx, cancel := context.WithTimeout(ctx, p.r.Options.mineTimeout())
		hashes, err := p.mineBlocks(callCtx, m.node, step.blocks)
		cancel()
		if err != nil {
			// The call may go on without us: look before mining again.
			log.Info("mining failed; waiting until the node's height stops moving", "node", m.name, "blocks", step.blocks, "error", rpcMessage(err))
			mem.Settled, step.initialDone = false, 0
			return mem, SettleLook
		}
		mem.LastBlockHeight, mem.LastBlockTime = m.height+int64(len(hashes)), p.now
		log.Info("mined blocks", "node", m.name, "blocks", len(hashes), "height", mem.LastBlockHeight)
		soon = afterMining
	}
	if step.initialDone > 0 && mem.InitialBlocksHeight == 0 {
		mem.InitialBlocksHeight = step.initialDone
		logf.FromContext(ctx).Info("initial blocks complete", "height", step.initialDone)
	}
	return mem, soon
}

// miner finds the miner in the pass (node 0 of spec.regtest.minerGroup):
// ready, answering, at the network's tip.
func (p *pass) miner(report peering.Report, chains []status.NodeChain) miner {
	var m miner
	mg := resources.MinerGroup(p.n)
	index := 0
	for i, g := range resources.Groups(p.n) {
		if g.Name == mg.Name && i < len(p.offsets) {
			index = p.offsets[i]
		}
	}
	for _, member := range p.members {
		if member.Ordinal == index && member.Node != nil && mg.Nodes > 0 {
			m.name, m.node = p.names[index], member.Node
		}
	}
	r := report.Nodes[index]
	if m.node == nil || r == nil || !r.Reachable {
		return miner{}
	}
	m.height = r.Chain.Blocks
	tip, ok := status.BestTip(chains)
	m.atTip = ok && tip.Hash == r.Chain.BestBlockHash
	reachable := 0
	for _, nr := range report.Nodes {
		if nr.Reachable {
			reachable++
		}
	}
	m.connected = reachable == int(resources.TotalNodes(p.n)) && report.WaitingEdges == 0 && report.ConnectedEdges == report.PlannedEdges
	return m
}
