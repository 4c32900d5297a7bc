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
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

func createNetwork(t *testing.T, ns, name string, impl v1alpha1.Implementation, nodes int32) *v1alpha1.BitcoinNetwork {
	t.Helper()
	return fixture.CreateNetwork(t, k8s, ns, name, impl, nodes)
}

func scale(t *testing.T, n *v1alpha1.BitcoinNetwork, nodes int32) {
	t.Helper()
	fixture.UpdateNetwork(t, k8s, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To(nodes) })
}

func p2pAddress(n *v1alpha1.BitcoinNetwork, ip string) string {
	return net.JoinHostPort(ip, strconv.Itoa(int(resources.PortsFor(n.Spec.Implementation, n.Spec.Chain).P2P)))
}

// checkPlannedPeersConnected asks every node over RPC for its added peers
// and connections: each must list its planned peers as connected, and have
// exactly as many connections as the mesh gives it (each edge once), as
// its status says too. Connections of a node that just went away close a
// moment later, and the status shows them until the next check: both get
// two check intervals to settle.
func checkPlannedPeersConnected(t *testing.T, n *v1alpha1.BitcoinNetwork) {
	t.Helper()
	eventually(t, 12*time.Second, "planned peers connected", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		return plannedPeersConnected(t, n)
	})
}

func plannedPeersConnected(t *testing.T, n *v1alpha1.BitcoinNetwork) error {
	ctx := context.Background()
	size := int(resources.TotalNodes(n))
	edges, _ := topology.Plan(topology.Mesh, size)
	neighbours := topology.Neighbours(edges, size)
	ipOf := map[int]string{}
	for _, node := range n.Status.Nodes {
		ipOf[int(node.Ordinal)] = node.IP
	}
	if len(n.Status.Nodes) != size {
		return fmt.Errorf("%d nodes in status, want %d", len(n.Status.Nodes), size)
	}
	var problems []error
	for _, node := range n.Status.Nodes {
		c := nodeClient(t, n, node)
		added, err := c.AddedNodes(ctx)
		if err != nil {
			return fmt.Errorf("%s: getaddednodeinfo: %w", node.Name, err)
		}
		var connected []string
		for _, a := range added {
			if a.Connected {
				connected = append(connected, a.Address)
			}
		}
		for _, peer := range topology.PeersOf(edges, int(node.Ordinal)) {
			if !slices.Contains(connected, p2pAddress(n, ipOf[peer])) {
				problems = append(problems, fmt.Errorf("%s: planned peer %d (%s) not among its connected added peers %v", node.Name, peer, ipOf[peer], connected))
			}
		}
		peers, err := c.Peers(ctx)
		if err != nil {
			return fmt.Errorf("%s: getpeerinfo: %w", node.Name, err)
		}
		if want := len(neighbours[node.Ordinal]); len(peers) != want || int(node.Peers) != want || int(node.ExpectedPeers) != want {
			problems = append(problems, fmt.Errorf("%s: %d connections (status: %d of %d expected), want %d", node.Name, len(peers), node.Peers, node.ExpectedPeers, want))
		}
	}
	return errors.Join(problems...)
}

// onRealNodes runs a scenario once on real btcd nodes and once on real
// Bitcoin Core v29.3 nodes (skipped, or failed where BNO_REQUIRE_BITCOIND=1,
// on a machine without it).
func onRealNodes(t *testing.T, scenario func(t *testing.T, impl v1alpha1.Implementation)) {
	t.Run("btcd", func(t *testing.T) { scenario(t, v1alpha1.ImplementationBtcd) })
	t.Run("bitcoind", func(t *testing.T) {
		realnode.RequireBitcoind(t)
		scenario(t, v1alpha1.ImplementationBitcoind)
	})
}

// TestSeedScenario is the original blog series' scenario on real nodes: 3
// nodes wired, scale to 4, back to 3 (the removed node's address is removed
// from its peers), delete.
func TestSeedScenario(t *testing.T) {
	onRealNodes(t, func(t *testing.T, impl v1alpha1.Implementation) {
		ctx := context.Background()
		ns := newNamespace(t)
		n := createNetwork(t, ns, "seed", impl, 3)
		cur := waitConnected(t, n, 90*time.Second)
		checkPlannedPeersConnected(t, cur)
		eventually(t, 10*time.Second, "NodeJoined events", func() error {
			list := &eventsv1.EventList{}
			if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
				return err
			}
			joined := 0
			for _, e := range list.Items {
				if e.Reason == "NodeJoined" && e.Regarding.Name == "seed" {
					joined++
				}
			}
			if joined != 3 {
				return fmt.Errorf("%d NodeJoined events, want one per node", joined)
			}
			return nil
		})

		scale(t, n, 4)
		cur = waitConnected(t, n, 90*time.Second)
		checkPlannedPeersConnected(t, cur)
		var removedIP string
		for _, node := range cur.Status.Nodes {
			if node.Ordinal == 3 {
				removedIP = node.IP
			}
		}

		scale(t, n, 3)
		cur = waitConnected(t, n, 90*time.Second)
		eventually(t, 30*time.Second, "the removed node is no node's peer", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), cur); err != nil {
				return err
			}
			for _, node := range cur.Status.Nodes {
				added, err := nodeClient(t, cur, node).AddedNodes(ctx)
				if err != nil {
					return err
				}
				for _, a := range added {
					if a.Address == p2pAddress(cur, removedIP) {
						return fmt.Errorf("%s still has %s added", node.Name, a.Address)
					}
				}
			}
			return nil
		})
		checkPlannedPeersConnected(t, cur)

		if err := k8s.Delete(ctx, n); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "nodes stop after delete", func() error {
			if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "seed"}, &appsv1.StatefulSet{}); err == nil {
				return fmt.Errorf("StatefulSet still there")
			}
			for _, r := range sim.Running() {
				if strings.HasPrefix(r, ns+"/") {
					return fmt.Errorf("pod %s still runs", r)
				}
			}
			return nil
		})
	})
}

// TestRestartedNodeRejoinsWithinOneCheck kills a node's process; the
// kubelet (simulated) restarts it with its data but no peers, and the
// operator wires it back.
func TestRestartedNodeRejoinsWithinOneCheck(t *testing.T) {
	onRealNodes(t, func(t *testing.T, impl v1alpha1.Implementation) {
		ctx := context.Background()
		ns := newNamespace(t)
		n := createNetwork(t, ns, "phoenix", impl, 4)
		waitConnected(t, n, 90*time.Second)
		if err := sim.RestartNode(ns, "phoenix-1"); err != nil {
			t.Fatal(err)
		}
		cur := &v1alpha1.BitcoinNetwork{}
		// One check interval (5s) plus the node's start: the bound, not a target.
		eventually(t, 20*time.Second, "restarted node back in the mesh", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), cur); err != nil {
				return err
			}
			for _, node := range cur.Status.Nodes {
				if node.Name != "phoenix-1" {
					continue
				}
				// Its connections with the network's nodes, as the status
				// counts them, and over RPC at least those: a node of an
				// earlier test may still dial an IP the simulator gave
				// phoenix-1 (in a cluster the NetworkPolicy refuses it).
				if node.Peers != 3 || node.ExpectedPeers != 3 {
					return fmt.Errorf("phoenix-1 has %d of %d planned peers in the status", node.Peers, node.ExpectedPeers)
				}
				peers, err := nodeClient(t, cur, node).Peers(ctx)
				if err != nil {
					return err
				}
				if len(peers) < 3 {
					return fmt.Errorf("phoenix-1 has %d peers", len(peers))
				}
			}
			return nil
		})
		checkPlannedPeersConnected(t, waitConnected(t, n, 30*time.Second))
	})
}

func TestMeshesOfEightAndSixteenNodes(t *testing.T) {
	onRealNodes(t, func(t *testing.T, impl v1alpha1.Implementation) {
		for _, size := range []int32{8, 16} {
			t.Run(strconv.Itoa(int(size)), func(t *testing.T) {
				ns := newNamespace(t)
				n := createNetwork(t, ns, "mesh", impl, size)
				checkPlannedPeersConnected(t, waitConnected(t, n, 120*time.Second))
				if err := k8s.Delete(context.Background(), n); err != nil {
					t.Fatal(err)
				}
				waitStopped(t, ns)
			})
		}
	})
}
