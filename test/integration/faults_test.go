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

package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// A partition of six Bitcoin Core nodes, 3 | 3, with 2 blocks mined on one
// side and 4 on the other: InSync is False/Partitioned with two tips, no
// connection crosses (over RPC), the bans hold; deleting the fault heals
// it, every node takes the 4-block side's tip, and the 2-block side's
// nodes report a reorganisation 2 blocks deep.
func TestAPartitionSplitsTheChainAndItsHealReorganisesTheShorterSide(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetwork(t, k8s, ns, "split", v1alpha1.ImplementationBitcoind, 6)
	n = waitConnected(t, n, 120*time.Second)
	nodes := map[string]bitcoin.Node{}
	for _, s := range n.Status.Nodes {
		nodes[s.Name] = nodeClient(t, n, s)
	}
	left, right := []string{"split-0", "split-1", "split-2"}, []string{"split-3", "split-4", "split-5"}
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "three-three"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "split",
		Partition:   &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: left}, {Nodes: right}}},
	}}
	if err := k8s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the fault active and InSync Partitioned", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		if f.Status.Phase != v1alpha1.FaultActive || !meta.IsStatusConditionTrue(f.Status.Conditions, v1alpha1.FaultConditionActive) {
			return fmt.Errorf("fault phase %q, conditions %+v", f.Status.Phase, f.Status.Conditions)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Reason != status.ReasonPartitioned || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("InSync %+v", c)
		}
		return fixture.Apart(ctx, nodes, n, left, right)
	})
	// Each side mines to its own address: the sides' blocks differ.
	mine := func(node string, count int) []string {
		key, err := miner.NewKey(miner.P2WPKH)
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := nodes[node].Mine(ctx, count, key.Address)
		if err != nil {
			t.Fatal(err)
		}
		return hashes
	}
	short, long := mine("split-0", 2), mine("split-3", 4)
	eventually(t, 60*time.Second, "two tips, one per side, in the fault's status", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		if len(f.Status.Sides) != 2 {
			return fmt.Errorf("sides %+v", f.Status.Sides)
		}
		for i, want := range []string{short[1], long[3]} {
			if tips := f.Status.Sides[i].Tips; len(tips) != 1 || tips[0].Hash != want || tips[0].Nodes != 3 {
				return fmt.Errorf("side %d tips %+v, want %s on 3 nodes", i, tips, want)
			}
		}
		return fixture.Apart(ctx, nodes, n, left, right)
	})
	healStart := time.Now()
	if err := k8s.Delete(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "every node at the 4-block side's tip", func() error {
		for name, c := range nodes {
			info, err := c.ChainInfo(ctx)
			if err != nil {
				return err
			}
			if info.BestBlockHash != long[3] {
				return fmt.Errorf("%s at %d %s", name, info.Blocks, info.BestBlockHash)
			}
		}
		return nil
	})
	t.Logf("deleted the fault; every node at one tip after %s", time.Since(healStart).Round(time.Millisecond))
	for _, name := range left {
		tips, err := nodes[name].ChainTips(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(tips, func(tip bitcoin.ChainTip) bool { return tip.Hash == short[1] && tip.BranchLen == 2 }) {
			t.Errorf("%s: chain tips %+v, want the replaced tip %s with branch length 2", name, tips, short[1])
		}
		banned, err := nodes[name].Banned(ctx)
		if err != nil || len(banned) != 0 {
			t.Errorf("%s: bans %v (%v) after the heal, want none", name, banned, err)
		}
	}
	eventually(t, 60*time.Second, "the fault gone and the network InSync with every planned connection", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), &v1alpha1.BitcoinNetworkFault{}); err == nil {
			return fmt.Errorf("fault %s still there", f.Name)
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("InSync %+v", c)
		}
		return plannedPeersConnected(t, n)
	})
	for _, reason := range []string{"FaultStarted", "FaultHealed"} {
		if got := fixture.EventCount(t, k8s, n, reason); got != 1 {
			t.Errorf("%d %s events on the network, want 1", got, reason)
		}
	}
	// The deleted fault stayed until the nodes were at one tip: its
	// reorganisations are in the network's events.
	if got := reorgEvents(t, n, "split-0, split-1, split-2 reorganised 2 blocks deep"); got != 1 {
		t.Errorf("%d ReorgObserved events naming the 2-block side's nodes 2 blocks deep on the network, want 1", got)
	}
}

func reorgEvents(t *testing.T, n *v1alpha1.BitcoinNetwork, text string) int {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(n.Namespace)); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, e := range list.Items {
		if e.Regarding.UID == n.UID && e.Reason == "ReorgObserved" {
			t.Logf("event %s: %s (series %v)", e.Reason, e.Note, e.Series)
			if strings.Contains(e.Note, text) {
				count++
			}
		}
	}
	return count
}

// A node isolated for a few seconds while the others mine falls behind;
// when the fault's duration ends it rejoins and catches up, and the fault
// stays Healed with the time the nodes took to reach one tip.
func TestAnIsolatedNodeFallsBehindAndCatchesUpWhenItsDurationEnds(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetwork(t, k8s, ns, "alone", v1alpha1.ImplementationBitcoind, 3)
	n = waitConnected(t, n, 120*time.Second)
	nodes := map[string]bitcoin.Node{}
	for _, s := range n.Status.Nodes {
		nodes[s.Name] = nodeClient(t, n, s)
	}
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cut-off"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "alone", Isolate: &v1alpha1.IsolateFault{Nodes: []string{"alone-2"}}, Duration: &metav1.Duration{Duration: 15 * time.Second},
	}}
	if err := k8s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "alone-2 cut off", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		if f.Status.Phase != v1alpha1.FaultActive {
			return fmt.Errorf("phase %q", f.Status.Phase)
		}
		return fixture.Apart(ctx, nodes, n, []string{"alone-2"}, []string{"alone-0", "alone-1"})
	})
	key, err := miner.NewKey(miner.P2WPKH)
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := nodes["alone-0"].Mine(ctx, 3, key.Address)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "alone-1 at the new tip, alone-2 behind", func() error {
		for name, want := range map[string]int64{"alone-1": 3, "alone-2": 0} {
			info, err := nodes[name].ChainInfo(ctx)
			if err != nil {
				return err
			}
			if info.Blocks != want {
				return fmt.Errorf("%s at %d, want %d", name, info.Blocks, want)
			}
		}
		return nil
	})
	eventually(t, 60*time.Second, "healed after its duration, converged, alone-2 at the tip", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		if f.Status.Phase != v1alpha1.FaultHealed || f.Status.ConvergenceSeconds == nil || f.Status.HealedAt == nil {
			return fmt.Errorf("phase %q, healed %v, converged %v", f.Status.Phase, f.Status.HealedAt, f.Status.ConvergenceSeconds)
		}
		info, err := nodes["alone-2"].ChainInfo(ctx)
		if err != nil {
			return err
		}
		if info.BestBlockHash != hashes[2] {
			return fmt.Errorf("alone-2 at %d", info.Blocks)
		}
		return nil
	})
	if healed := f.Status.HealedAt.Sub(f.Status.StartedAt.Time); healed < 15*time.Second {
		t.Errorf("healed %s after it started, before its duration (15s)", healed)
	}
	if len(f.Status.Reorgs) != 0 {
		t.Errorf("reorgs %+v: alone-2 only caught up, it replaced no block", f.Status.Reorgs)
	}
	if c := meta.FindStatusCondition(f.Status.Conditions, v1alpha1.FaultConditionHealed); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != f.Generation {
		t.Errorf("Healed condition %+v", c)
	}
	t.Logf("isolated for %s; one tip %d s after the heal", f.Status.HealedAt.Sub(f.Status.StartedAt.Time).Round(time.Second), *f.Status.ConvergenceSeconds)
	eventually(t, 30*time.Second, "the network InSync with every planned connection", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("InSync %+v", c)
		}
		return plannedPeersConnected(t, n)
	})
}

// A fault naming a node the network does not have changes nothing and
// says which field is wrong.
func TestAFaultOnAnUnknownNodeIsRefusedAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetwork(t, k8s, ns, "whole", v1alpha1.ImplementationBtcd, 2)
	n = waitConnected(t, n, 90*time.Second)
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typo"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "whole", Isolate: &v1alpha1.IsolateFault{Nodes: []string{"whole-7"}},
	}}
	if err := k8s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "Degraded naming the field", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		c := meta.FindStatusCondition(f.Status.Conditions, v1alpha1.FaultConditionDegraded)
		if f.Status.Phase != v1alpha1.FaultPending || c == nil || c.Reason != "InvalidSpec" || !strings.Contains(c.Message, "spec.isolate.nodes: whole-7 is not a node of network whole") {
			return fmt.Errorf("phase %q, Degraded %+v", f.Status.Phase, c)
		}
		return nil
	})
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
		t.Fatal(err)
	}
	if err := plannedPeersConnected(t, n); err != nil {
		t.Errorf("a refused fault changed the network: %v", err)
	}
	if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c != nil && c.Reason == status.ReasonPartitioned {
		t.Errorf("InSync %+v for a refused fault", c)
	}
	if err := k8s.Delete(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the refused fault deleted at once", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err == nil {
			return fmt.Errorf("still there, finalizers %v", f.Finalizers)
		}
		return nil
	})
}

// A reorg of depth 3 on four Bitcoin Core nodes: the operator splits them
// 2 | 2, mines 3 blocks on the first side and 4 on the other, heals, and
// the first side's nodes report a reorganisation 3 blocks deep; the fault
// is done with every node at one tip.
func TestAReorgOfDepthThreeIsMadeAndObserved(t *testing.T) {
	realnode.RequireBitcoind(t)
	reorgOfThree(t, v1alpha1.ImplementationBitcoind)
}

// The same on four btcd nodes: after the heal the operator hands the
// smaller side's nodes the other side's blocks from where the chains part
// (btcd on regtest syncs from no peer off 127.0.0.1), and btcd's own
// getchaintips reports the replaced branch.
func TestAReorgOfDepthThreeIsMadeAndObservedOnBtcd(t *testing.T) {
	reorgOfThree(t, v1alpha1.ImplementationBtcd)
}

func reorgOfThree(t *testing.T, impl v1alpha1.Implementation) {
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetworkWith(t, k8s, ns, "deep", impl, 4, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 101}
	})
	eventually(t, 120*time.Second, "the network Ready and InSync at 101", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if err := fixture.ReadyAndConnected(n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue || n.Status.TipHeight != 101 {
			return fmt.Errorf("InSync %+v at %d", c, n.Status.TipHeight)
		}
		return nil
	})
	nodes := map[string]bitcoin.Node{}
	for _, s := range n.Status.Nodes {
		nodes[s.Name] = nodeClient(t, n, s)
	}
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "three-deep"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "deep", Reorg: &v1alpha1.ReorgFault{Depth: 3},
	}}
	if err := k8s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	eventually(t, 120*time.Second, "the reorg made, healed and converged", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		if f.Status.Phase != v1alpha1.FaultHealed || f.Status.ConvergedAt == nil {
			return fmt.Errorf("phase %q, base %v, sides %+v, conditions %+v", f.Status.Phase, f.Status.ReorgBaseHeight, f.Status.Sides, f.Status.Conditions)
		}
		return nil
	})
	if f.Status.ReorgBaseHeight == nil || *f.Status.ReorgBaseHeight != 101 {
		t.Fatalf("base height %v, want 101", f.Status.ReorgBaseHeight)
	}
	var reorged []string
	for _, r := range f.Status.Reorgs {
		if r.Depth != 3 {
			t.Errorf("%s reorganised %d deep, want 3", r.Node, r.Depth)
		}
		reorged = append(reorged, r.Node)
	}
	if !slices.Equal(reorged, []string{"deep-0", "deep-1"}) {
		t.Errorf("reorganised nodes %v, want the smaller side's deep-0 and deep-1", reorged)
	}
	var tip string
	for name, c := range nodes {
		info, err := c.ChainInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Blocks != 105 || tip != "" && info.BestBlockHash != tip {
			t.Errorf("%s at %d %s, want every node at one tip at 105", name, info.Blocks, info.BestBlockHash)
		}
		tip = info.BestBlockHash
	}
	// Depth 3 from the nodes themselves: the replaced tip is a fork of 3.
	tips, err := nodes["deep-0"].ChainTips(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tips, func(tip bitcoin.ChainTip) bool {
		return tip.Height == 104 && tip.BranchLen == 3 && tip.Status == "valid-fork"
	}) {
		t.Errorf("deep-0 chain tips %+v, want a valid fork of 3 at 104", tips)
	}
	t.Logf("reorg of 3 made from %d; one tip %d s after the heal", *f.Status.ReorgBaseHeight, *f.Status.ConvergenceSeconds)
	eventually(t, 30*time.Second, "the network InSync with every planned connection", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue || n.Status.TipHeight != 105 {
			return fmt.Errorf("InSync %+v at %d", c, n.Status.TipHeight)
		}
		return plannedPeersConnected(t, n)
	})
}

// A fault on one network leaves another network of the namespace alone:
// its nodes keep every connection and ban nothing.
func TestAFaultOnOneNetworkLeavesAnotherAlone(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	target := fixture.CreateNetwork(t, k8s, ns, "target", v1alpha1.ImplementationBitcoind, 4)
	other := fixture.CreateNetwork(t, k8s, ns, "other", v1alpha1.ImplementationBitcoind, 3)
	target, other = waitConnected(t, target, 120*time.Second), waitConnected(t, other, 120*time.Second)
	connections := func() map[string][]string {
		out := map[string][]string{}
		for _, s := range other.Status.Nodes {
			peers, err := nodeClient(t, other, s).Peers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range peers {
				if !p.Inbound {
					out[s.Name] = append(out[s.Name], p.Address)
				}
			}
			slices.Sort(out[s.Name])
		}
		return out
	}
	before := connections()
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "only-target"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "target", Isolate: &v1alpha1.IsolateFault{Nodes: []string{"target-0"}},
	}}
	if err := k8s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bitcoin.Node{}
	for _, s := range target.Status.Nodes {
		nodes[s.Name] = nodeClient(t, target, s)
	}
	eventually(t, 60*time.Second, "target-0 cut off", func() error {
		return fixture.Apart(ctx, nodes, target, []string{"target-0"}, []string{"target-1", "target-2", "target-3"})
	})
	// Two passes (5 s apart) of both networks under the fault.
	time.Sleep(11 * time.Second)
	after := connections()
	for name, conns := range before {
		if !slices.Equal(conns, after[name]) {
			t.Errorf("%s of the other network: connections %v, were %v", name, after[name], conns)
		}
	}
	for _, s := range other.Status.Nodes {
		if banned, err := nodeClient(t, other, s).Banned(ctx); err != nil || len(banned) > 0 {
			t.Errorf("%s of the other network bans %v (%v)", s.Name, banned, err)
		}
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(other.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("the other network's InSync %+v", c)
	}
}
