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
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin/fake"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

func TestPlanMiningMinesTheInitialBlocksOnceAndThenAtTheInterval(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	initial := &v1alpha1.RegtestSpec{InitialBlocks: 101}
	moving := &v1alpha1.RegtestSpec{InitialBlocks: 101, BlockInterval: &metav1.Duration{Duration: time.Minute}}
	for _, c := range []struct {
		name      string
		spec      *v1alpha1.RegtestSpec
		recorded  int64
		connected bool
		height    int64
		last      time.Time
		want      miningStep
	}{
		{"not connected yet: nothing", initial, 0, false, 0, time.Time{}, miningStep{}},
		{"first chunk of the initial blocks", initial, 0, true, 0, time.Time{}, miningStep{blocks: 100}},
		{"the rest, which completes them", initial, 0, true, 100, time.Time{}, miningStep{blocks: 1, initialDone: 101}},
		{"a chain already high enough is recorded, not mined", initial, 0, true, 150, time.Time{}, miningStep{initialDone: 150}},
		{"recorded: never again, even on a chain that was reset", initial, 101, true, 0, time.Time{}, miningStep{}},
		{"recorded, no interval: nothing", initial, 101, true, 101, now.Add(-time.Hour), miningStep{}},
		{"interval due", moving, 101, true, 101, now.Add(-time.Minute), miningStep{blocks: 1, wait: time.Minute}},
		{"interval not due", moving, 101, true, 101, now.Add(-20 * time.Second), miningStep{wait: 40 * time.Second}},
		{"interval waits for the initial blocks", moving, 0, true, 5, time.Time{}, miningStep{blocks: 96, initialDone: 101}},
		{"interval only while connected", moving, 101, false, 101, now.Add(-time.Hour), miningStep{}},
		{"no initial blocks, interval from the start", &v1alpha1.RegtestSpec{BlockInterval: &metav1.Duration{Duration: time.Second}}, 0, true, 0, time.Time{}, miningStep{blocks: 1, wait: time.Second}},
	} {
		if got := planMining(c.spec, c.recorded, c.connected, c.height, c.last, now); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// Results holding times (the last block mined) compare without panicking,
// and a new block is a change.
func TestResultsWithTimesCompare(t *testing.T) {
	at := time.Now().Round(0)
	result := func(generation, height int64, when time.Time) *netstate.Result {
		return &netstate.Result{Generation: generation, Plan: "mesh/1", Status: &status.Peering{Nodes: map[string]status.NodePeering{"a-0": {BlockHeight: height}},
			Sync:   &status.Sync{Status: metav1.ConditionTrue, Reason: status.ReasonAtSameTip},
			Mining: &status.Mining{LastBlockHeight: height, LastBlockTime: when}}}
	}
	last := result(1, 5, at)
	if resultChanged(last, result(1, 5, at)) {
		t.Error("the same result counts as a change")
	}
	if !resultChanged(last, result(1, 6, at.Add(time.Second))) {
		t.Error("a new block does not count as a change")
	}
	if !resultChanged(last, result(2, 5, at)) || !resultChanged(nil, result(1, 5, at)) {
		t.Error("a new generation or a first result does not count as a change")
	}
}

// fakeMiner serves one fake Bitcoin Core whose generatetoaddress takes
// blockTime per block and, like Core, goes on after the client gives up.
func fakeMiner(t *testing.T, blockTime time.Duration) (*fake.Node, bitcoin.Node) {
	t.Helper()
	salt := "00112233445566778899aabbccddeeff"
	node := &fake.Node{P2PAddress: "127.0.70.1:18444", RPCAuth: rpcauth.Value("u", salt, "p"), Chain: "regtest", BlockTime: blockTime}
	node.Start(fake.NewNetwork())
	t.Cleanup(node.Stop)
	srv := httptest.NewServer(node)
	t.Cleanup(srv.Close)
	return node, bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://"), User: "u", Password: "p"}, bitcoin.Transport(nil), time.Second)
}

// A mining call that outlives its deadline keeps mining on the node (Core
// does): the operator mines no more until the node's height has stopped
// moving, so the chain ends at spec.regtest.initialBlocks exactly.
func TestAMiningCallThatOutlivesItsDeadlineIsNotRepeated(t *testing.T) {
	node, client := fakeMiner(t, 20*time.Millisecond)
	n := &v1alpha1.BitcoinNetwork{}
	n.Name, n.Spec.Nodes, n.Spec.Regtest = "net", ptr.To[int32](1), &v1alpha1.RegtestSpec{InitialBlocks: 60}
	// 60 blocks take 1.2 s; the call gives up after 0.3 s.
	r := &Reconciler{Options: Options{MineTimeout: 300 * time.Millisecond}}
	var mem netstate.Mining
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for mem.InitialBlocksHeight == 0 && time.Now().Before(deadline) {
		height, err := client.BlockCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := &pass{r: r, n: n, access: netstate.Access{MiningAddress: "bcrt1qminer"}, now: time.Now().Round(0)}
		mem, _ = p.mineStep(ctx, miner{name: "net-0", node: client, height: height, atTip: true, connected: true}, mem)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything still mining would show now
	if got := node.Height(); got != 60 || mem.InitialBlocksHeight != 60 {
		t.Errorf("chain at %d, initial blocks recorded at %d; want 60 and 60", got, mem.InitialBlocksHeight)
	}
}

// A new operator process (a restart, a new leader) does not know whether
// the last one left a call running: it looks twice before it mines.
func TestANewProcessLooksBeforeItMines(t *testing.T) {
	now := time.Now()
	var mem netstate.Mining
	m, ok := settle(mem, "net-0", 40, now)
	if ok {
		t.Fatal("a new process mined at its first look")
	}
	if _, ok := settle(m, "net-0", 41, now.Add(SettleLook)); ok {
		t.Error("mined while the height still moved")
	}
	m, _ = settle(m, "net-0", 41, now.Add(SettleLook))
	if _, ok := settle(m, "net-0", 41, now.Add(SettleLook+SettleLook/2)); ok {
		t.Error("mined after two looks less than SettleLook apart")
	}
	if m, ok = settle(m, "net-0", 41, now.Add(2*SettleLook)); !ok || !m.Settled {
		t.Error("did not mine after two equal looks SettleLook apart")
	}
	if _, ok := settle(m, "net-0", 41, now.Add(2*SettleLook)); !ok {
		t.Error("a settled miner looks again")
	}
}

// Two looks count only when they saw the same node: a reorg side's first
// node at its height can change between passes.
func TestLooksAtAnotherNodeStartOver(t *testing.T) {
	now := time.Now()
	look, ok := lookAgain(netstate.Look{}, "net-0", 40, now)
	if ok {
		t.Fatal("settled at the first look")
	}
	if look, ok = lookAgain(look, "net-1", 40, now.Add(SettleLook)); ok {
		t.Fatal("settled on looks at two nodes")
	}
	if look.Node != "net-1" || !look.At.Equal(now.Add(SettleLook)) {
		t.Errorf("the look kept is %+v, want net-1's", look)
	}
	if look, ok = lookAgain(look, "net-1", 40, now.Add(2*SettleLook)); !ok || look != (netstate.Look{}) {
		t.Errorf("two equal looks at net-1 SettleLook apart: settled %v, look %+v", ok, look)
	}
}

// The miner mines only at the network's tip: blocks mined on a node that is
// behind or on another branch would fork the chain.
func TestTheMinerMustBeAtTheTip(t *testing.T) {
	n := &v1alpha1.BitcoinNetwork{}
	n.Name, n.Spec.Nodes = "net", ptr.To[int32](2)
	_, client := fakeMiner(t, 0)
	p := &pass{n: n, names: map[int]string{0: "net-0", 1: "net-1"},
		members: []peering.Member{{Ordinal: 0, Node: client}, {Ordinal: 1, Node: client}}}
	report := peering.Report{PlannedEdges: 1, ConnectedEdges: 1, Nodes: map[int]*peering.NodeReport{
		0: {Reachable: true, Chain: bitcoin.ChainInfo{Blocks: 5, BestBlockHash: "a5"}},
		1: {Reachable: true, Chain: bitcoin.ChainInfo{Blocks: 7, BestBlockHash: "b7"}},
	}}
	chains := []status.NodeChain{{Name: "net-0", Height: 5, Hash: "a5"}, {Name: "net-1", Height: 7, Hash: "b7"}}
	if m := p.miner(report, chains); m.atTip || !m.connected || m.height != 5 {
		t.Errorf("node 0 behind: %+v, want not at the tip", m)
	}
	chains[0].Height, chains[0].Hash = 8, "a8"
	report.Nodes[0].Chain = bitcoin.ChainInfo{Blocks: 8, BestBlockHash: "a8"}
	if m := p.miner(report, chains); !m.atTip {
		t.Errorf("node 0 at the tip: %+v", m)
	}
}
