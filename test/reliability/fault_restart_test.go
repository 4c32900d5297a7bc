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

package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// clients returns an RPC client per node of a network, by name.
func clients(t *testing.T, n *v1alpha1.BitcoinNetwork) map[string]bitcoin.Node {
	t.Helper()
	out := map[string]bitcoin.Node{}
	for _, s := range n.Status.Nodes {
		c, err := podsim.NodeClient(context.Background(), k8s, n, s, rpcTimeout)
		if err != nil {
			t.Fatal(err)
		}
		out[s.Name] = c
	}
	return out
}

// An operator killed during an active partition: the next one keeps it
// (no connection across, bans kept) and heals it when it is deleted, with
// every ban lifted.
func TestAPartitionOutlivesTheOperatorAndHealsAfterARestart(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := fixture.NewNamespace(t, k8s)
	n := fixture.CreateNetwork(t, k8s, ns, "outlive", v1alpha1.ImplementationBitcoind, 4)
	first := runOperator(t, envtest.ManagerOptions{})
	n = fixture.WaitConnected(t, k8s, n, 120*time.Second)
	nodes := clients(t, n)
	a, b := []string{"outlive-0", "outlive-1"}, []string{"outlive-2", "outlive-3"}
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "halves"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "outlive", Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: a}}},
	}}
	must(t, k8s.Create(ctx, f))
	fixture.Eventually(t, 60*time.Second, "the partition enforced", func() error { return fixture.Apart(ctx, nodes, n, a, b) })
	first.Stop()
	runOperator(t, envtest.ManagerOptions{})
	// Two check intervals (5 s) under the new operator: still apart.
	time.Sleep(11 * time.Second)
	if err := fixture.Apart(ctx, nodes, n, a, b); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	must(t, k8s.Delete(ctx, f))
	fixture.Eventually(t, 60*time.Second, "healed: the fault gone, no ban left, every planned connection up", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err == nil {
			return fmt.Errorf("fault still there (%s)", f.Status.Phase)
		}
		for name, c := range nodes {
			if banned, err := c.Banned(ctx); err != nil || len(banned) > 0 {
				return fmt.Errorf("%s bans %v (%v)", name, banned, err)
			}
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		return fixture.ReadyAndConnected(n)
	})
}

// An operator killed again and again while it makes a reorg: the reorg is
// made once, from one base, to exactly base+depth+1 blocks, and observed.
func TestAReorgIsMadeOnceAcrossOperatorRestarts(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := fixture.NewNamespace(t, k8s)
	n := fixture.CreateNetwork(t, k8s, ns, "once", v1alpha1.ImplementationBitcoind, 4)
	m := runOperator(t, envtest.ManagerOptions{})
	n = fixture.WaitConnected(t, k8s, n, 120*time.Second)
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "twice-never"}, Spec: v1alpha1.BitcoinNetworkFaultSpec{
		NetworkName: "once", Reorg: &v1alpha1.ReorgFault{Depth: 2},
	}}
	must(t, k8s.Create(ctx, f))
	rng := rand.New(rand.NewPCG(18, 2))
	for i := 0; i < 6; i++ {
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		m.Stop()
		m = runOperator(t, envtest.ManagerOptions{})
	}
	fixture.Eventually(t, 120*time.Second, "the reorg healed and converged", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil {
			return err
		}
		if f.Status.Phase != v1alpha1.FaultHealed || f.Status.ConvergedAt == nil {
			return fmt.Errorf("phase %q, base %v", f.Status.Phase, f.Status.ReorgBaseHeight)
		}
		return nil
	})
	if f.Status.ReorgBaseHeight == nil || *f.Status.ReorgBaseHeight != 0 {
		t.Fatalf("base %v, want 0 (a new network)", f.Status.ReorgBaseHeight)
	}
	for name, c := range clients(t, n) {
		if h, err := c.BlockCount(ctx); err != nil || h != 3 {
			t.Errorf("%s at %d (%v), want 3: 2 blocks on one side, 3 on the other, nothing more", name, h, err)
		}
	}
	var reorged []string
	for _, r := range f.Status.Reorgs {
		if r.Depth != 2 {
			t.Errorf("%s reorganised %d deep, want 2", r.Node, r.Depth)
		}
		reorged = append(reorged, r.Node)
	}
	if !slices.Equal(reorged, []string{"once-0", "once-1"}) {
		t.Errorf("reorganised %v, want once-0 and once-1", reorged)
	}
}
