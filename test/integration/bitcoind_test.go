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
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// These scenarios need what only Bitcoin Core does: rpcauth from a user's
// Secret, its 8-connection cap on added peers, its warm-up, its options.

func TestRealBitcoindWithTheUsersOwnSecret(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-rpc"},
		Data:       map[string][]byte{"rpcuser": []byte("alice"), "rpcpassword": []byte("correct horse battery staple")},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: "own", Namespace: ns}}
	n.Spec.Nodes, n.Spec.Implementation, n.Spec.RPCSecretName = ptr.To[int32](3), v1alpha1.ImplementationBitcoind, secret.Name
	n.Spec.PeerCheckInterval = &metav1.Duration{Duration: 5 * time.Second}
	if err := k8s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	cur := waitConnected(t, n, 90*time.Second)
	if cur.Status.RPCSecretName != secret.Name {
		t.Fatalf("status.rpcSecretName %q, want the user's Secret", cur.Status.RPCSecretName)
	}
	// nodeClient authenticates as alice with her password: the nodes took
	// the rpcauth the operator derived from it.
	checkPlannedPeersConnected(t, cur)
}

// TestTwentyBitcoindNodesKeepEveryPlannedEdgeWithinCoresCap: beyond 17
// nodes the mesh gives each node fewer peers to add than Core's 8, and
// every planned connection is up.
func TestTwentyBitcoindNodesKeepEveryPlannedEdgeWithinCoresCap(t *testing.T) {
	realnode.RequireBitcoind(t)
	ns := newNamespace(t)
	n := createNetwork(t, ns, "twenty", v1alpha1.ImplementationBitcoind, 20)
	cur := waitConnected(t, n, 180*time.Second)
	checkPlannedPeersConnected(t, cur)
	for _, node := range cur.Status.Nodes {
		added, err := nodeClient(t, cur, node).AddedNodes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(added) > topology.MaxAddedPeers {
			t.Errorf("%s has %d added peers, above Core's cap of %d", node.Name, len(added), topology.MaxAddedPeers)
		}
	}
	if err := k8s.Delete(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, ns)
}

// TestConfigChangeRollsRealBitcoindNodes changes spec.config: every node is
// replaced by one that runs with the new option, and the mesh comes back.
func TestConfigChangeRollsRealBitcoindNodes(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "roll", v1alpha1.ImplementationBitcoind, 3)
	waitConnected(t, n, 90*time.Second)
	fixture.UpdateNetwork(t, k8s, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxmempool": "150"} })
	cur := waitConnected(t, n, 120*time.Second)
	eventually(t, 60*time.Second, "every node runs with maxmempool=150", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), cur); err != nil {
			return err
		}
		if len(cur.Status.Nodes) != 3 {
			return fmt.Errorf("%d nodes", len(cur.Status.Nodes))
		}
		for _, node := range cur.Status.Nodes {
			var info struct {
				MaxMempool int64 `json:"maxmempool"`
			}
			if err := bitcoin.Call(ctx, nodeClient(t, cur, node), "getmempoolinfo", &info); err != nil {
				return err
			}
			if info.MaxMempool != 150_000_000 {
				return fmt.Errorf("%s: maxmempool %d bytes", node.Name, info.MaxMempool)
			}
		}
		return nil
	})
	checkPlannedPeersConnected(t, waitConnected(t, n, 60*time.Second))
	// Ready went False once for the roll-out and True once after it.
	if c := fixture.EventCount(t, k8s, n, "NetworkReady"); c != 2 {
		t.Errorf("%d NetworkReady events, want 2 (created, rolled out)", c)
		list := &eventsv1.EventList{}
		_ = k8s.List(ctx, list, client.InNamespace(n.Namespace))
		for _, e := range list.Items {
			t.Logf("event %s %s %s %s %v", e.CreationTimestamp.Format("15:04:05.000"), e.Reason, e.Regarding.Name, e.Note, e.Series)
		}
	}
}

// TestWarmingUpBitcoindIsWiredOnceItIsReady: a node still in its warm-up
// answers every call with -28, so its readiness probe fails; the others
// are wired meanwhile and the network says it waits; once warm, the node
// joins.
func TestWarmingUpBitcoindIsWiredOnceItIsReady(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	sim.HoldWarmup(ns, "warm-2")
	n := createNetwork(t, ns, "warm", v1alpha1.ImplementationBitcoind, 3)
	cur := &v1alpha1.BitcoinNetwork{}
	eventually(t, 60*time.Second, "nodes 0 and 1 ready and connected, node 2 waited for", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), cur); err != nil {
			return err
		}
		if cur.Status.ReadyNodes != 2 || len(cur.Status.Nodes) != 3 || cur.Status.Nodes[2].Ready {
			return fmt.Errorf("ready %d, nodes %+v", cur.Status.ReadyNodes, cur.Status.Nodes)
		}
		peers := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionPeersConnected)
		if peers == nil || peers.Status != metav1.ConditionFalse || peers.Reason != "WaitingForNodes" {
			return fmt.Errorf("PeersConnected = %+v", peers)
		}
		if cur.Status.Nodes[0].Peers != 1 || cur.Status.Nodes[1].Peers != 1 {
			return fmt.Errorf("nodes 0 and 1 have %d and %d peers, want their edge up", cur.Status.Nodes[0].Peers, cur.Status.Nodes[1].Peers)
		}
		return nil
	})
	if ready := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionFalse {
		t.Errorf("Ready = %+v while a node warms up", ready)
	}
	ip, err := sim.NodeIP(ns, "warm-2")
	if err != nil {
		t.Fatal(err)
	}
	warming := cur.Status.Nodes[2]
	warming.IP = ip
	if _, err := nodeClient(t, cur, warming).ChainInfo(ctx); !bitcoin.IsWarmingUp(err) {
		t.Fatalf("warm-2 answers %v, want -28", err)
	}
	if err := sim.ReleaseWarmup(ns, "warm-2"); err != nil {
		t.Fatal(err)
	}
	checkPlannedPeersConnected(t, waitConnected(t, n, 60*time.Second))
}

// TestAnIPReusedByAnotherNetworkIsNeverItsPeer: a node scaled away while
// one of its peers did not answer stays on that peer's added list; its IP
// goes to another network's node on the same port. The operator must remove
// the stale address (and close the connection) once the peer answers, so the
// two networks' chains never join.
func TestAnIPReusedByAnotherNetworkIsNeverItsPeer(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	a := createNetwork(t, ns, "alpha", v1alpha1.ImplementationBitcoind, 4)
	cur := waitConnected(t, a, 90*time.Second)
	freed := cur.Status.Nodes[3].IP
	stale := p2pAddress(a, freed)
	// alpha-0 adds alpha-3 (mesh of 4); it hangs while alpha-3 goes away.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sim.HoldReadiness(ns, "alpha-0", true))
	must(sim.SignalNode(ns, "alpha-0", syscall.SIGSTOP))
	scale(t, a, 3)
	eventually(t, 60*time.Second, "alpha-3 gone and forgotten by the node list", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(a), cur); err != nil {
			return err
		}
		if len(cur.Status.Nodes) != 3 || cur.Status.Nodes[0].Message == "" {
			return fmt.Errorf("nodes %+v", cur.Status.Nodes)
		}
		return nil
	})
	// alpha-3's IP goes to a node of another network.
	sim.ReuseIP(ns, "beta-0", freed)
	b := createNetwork(t, ns, "beta", v1alpha1.ImplementationBitcoind, 1)
	waitConnected(t, b, 60*time.Second)
	must(sim.SignalNode(ns, "alpha-0", syscall.SIGCONT))
	must(sim.HoldReadiness(ns, "alpha-0", false))

	cur = waitConnected(t, a, 60*time.Second)
	alpha0 := nodeClient(t, cur, cur.Status.Nodes[0])
	beta := &v1alpha1.BitcoinNetwork{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(b), beta); err != nil {
		t.Fatal(err)
	}
	beta0 := nodeClient(t, beta, beta.Status.Nodes[0])
	eventually(t, 20*time.Second, "no peering between the two networks", func() error {
		added, err := alpha0.AddedNodes(ctx)
		if err != nil {
			return err
		}
		for _, x := range added {
			if x.Address == stale {
				return fmt.Errorf("alpha-0 still lists %s, now beta-0's address", stale)
			}
		}
		peers, err := beta0.Peers(ctx)
		if err != nil {
			return err
		}
		if len(peers) != 0 {
			return fmt.Errorf("beta-0, alone in its network, has peers %+v", peers)
		}
		return nil
	})
}
