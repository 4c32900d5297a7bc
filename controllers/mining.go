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

package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// maxBlocksPerCall bounds one generatetoaddress call: a pass mines at most
// this many blocks, and the next pass (a second later) goes on.
const maxBlocksPerCall = 100

// afterMining is how soon a pass follows one that mined: the status then
// shows the new heights, and the nodes' sync.
const afterMining = time.Second

// miningStep is what a pass should mine on a regtest network.
type miningStep struct {
	// blocks to mine now on node 0 (0: none).
	blocks int
	// initialDone is the height at which the initial blocks are complete,
	// when this pass found them so (0: not yet).
	initialDone int64
	// wait is how long until a block is due, with spec.regtest.blockInterval.
	wait time.Duration
}

// planMining decides what to mine, from the spec, what was recorded, node
// 0's height and whether every planned connection is up. The initial
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

// mine carries out planMining on node 0, and returns what was mined so far
// and how soon the next pass should run (0: no hurry).
func (p *peeringReconciler) mine(ctx context.Context, n *v1alpha1.BitcoinNetwork, members []peering.Member, report peering.Report, address string) (*status.Mining, time.Duration) {
	log := logf.FromContext(ctx)
	key := types.NamespacedName{Namespace: n.Namespace, Name: n.Name}
	var mined status.Mining
	p.store.with(key, func(st *peerState) { mined = st.mining })
	if old := n.Status.Mining; old != nil {
		mined.InitialBlocksHeight = max(mined.InitialBlocksHeight, old.InitialBlocksHeight)
		if mined.LastBlockTime.IsZero() && old.LastBlockTime != nil {
			mined.LastBlockHeight, mined.LastBlockTime = old.LastBlockHeight, old.LastBlockTime.Time
		}
	}
	var node0 *peering.Member
	for i := range members {
		if members[i].Ordinal == 0 && members[i].Node != nil {
			node0 = &members[i]
		}
	}
	r0 := report.Nodes[0]
	reachable := 0
	for _, nr := range report.Nodes {
		if nr.Reachable {
			reachable++
		}
	}
	connected := node0 != nil && r0 != nil && r0.Reachable && reachable == int(n.Spec.Nodes) &&
		report.WaitingEdges == 0 && report.ConnectedEdges == report.PlannedEdges
	var height int64
	if r0 != nil {
		height = r0.Chain.Blocks
	}
	now := time.Now().Round(0) // no monotonic reading: results are compared
	step := planMining(n.Spec.Regtest, mined.InitialBlocksHeight, connected, height, mined.LastBlockTime, now)
	soon := step.wait
	if step.blocks > 0 {
		hashes, err := node0.Node.Mine(ctx, step.blocks, address)
		if err != nil {
			log.Info("mining failed", "node", n.Name+"-0", "blocks", step.blocks, "error", rpcMessage(err))
			step.initialDone = 0
		} else {
			mined.LastBlockHeight, mined.LastBlockTime = height+int64(len(hashes)), now
			log.Info("mined blocks", "node", n.Name+"-0", "blocks", len(hashes), "height", mined.LastBlockHeight)
		}
		soon = afterMining
	}
	if step.initialDone > 0 && mined.InitialBlocksHeight == 0 {
		mined.InitialBlocksHeight = step.initialDone
		log.Info("initial blocks complete", "height", step.initialDone)
	}
	p.store.with(key, func(st *peerState) { st.mining = mined })
	return &mined, soon
}
