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
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// rpcTimeout is the operator's RPC deadline in this suite (suite_test.go).
const rpcTimeout = 3 * time.Second

// A node whose RPC hangs costs its network's passes at most the deadline
// once (then a short budget while a background probe waits for it): a node
// added next to it is wired with the healthy nodes about as fast as without
// it (the bound is the goal: the deadline plus a second; a reconciler that
// waits out the hung node on each pass needs more than 5 s here), and
// another network still becomes Ready. The measured delays are logged.
func TestAHungNodeHoldsUpNeitherItsNetworkNorAnother(t *testing.T) {
	// bitcoind, whose RPC is plain HTTP like the simulated hung server.
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	slow := waitConnected(t, createNetwork(t, ns, "hangs", v1alpha1.ImplementationBitcoind, 3), 90*time.Second)
	release := make(chan struct{})
	defer close(release)
	if err := sim.ReplaceRPC(ns, "hangs-2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the hung node reported", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(slow), slow); err != nil {
			return err
		}
		for _, n := range slow.Status.Nodes {
			if n.Name == "hangs-2" && n.Message == "RPC call timed out" {
				return nil
			}
		}
		return fmt.Errorf("nodes %+v", slow.Status.Nodes)
	})

	// A spec change is in the status at once: the status of a new
	// generation waits for no pass (a pass here takes the hung node's
	// budget, a second at least).
	changed := time.Now()
	fixture.UpdateNetwork(t, k8s, slow, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.PeerCheckInterval = &metav1.Duration{Duration: 6 * time.Second}
	})
	eventually(t, 900*time.Millisecond, "the new generation in status", func() error {
		cur := &v1alpha1.BitcoinNetwork{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(slow), cur); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.ObservedGeneration != cur.Generation || cur.Status.ObservedGeneration != cur.Generation {
			return fmt.Errorf("generation %d, status at %d, Ready %+v", cur.Generation, cur.Status.ObservedGeneration, c)
		}
		return nil
	})
	t.Logf("spec change of the network with a hung node: in status after %v", time.Since(changed).Round(10*time.Millisecond))

	scale(t, slow, 4)
	other := createNetwork(t, ns, "bystander", v1alpha1.ImplementationBitcoind, 2)
	newNodeReady := readySince(t, ns, "hangs-3", 90*time.Second)
	var wired time.Duration
	eventually(t, rpcTimeout+time.Second, "hangs-3 wired with the healthy nodes", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(slow), slow); err != nil {
			return err
		}
		for _, n := range slow.Status.Nodes {
			if n.Name != "hangs-3" || n.IP == "" {
				continue
			}
			peers, err := nodeClient(t, slow, n).Peers(ctx)
			if err != nil {
				return err
			}
			if len(peers) < 2 {
				return fmt.Errorf("hangs-3 has %d peers", len(peers))
			}
			wired = time.Since(newNodeReady)
			return nil
		}
		return fmt.Errorf("hangs-3 not in status")
	})
	t.Logf("node added next to a hung node: connected to the 2 healthy nodes %v after it was Ready (target: the %v deadline + 1s)", wired.Round(10*time.Millisecond), rpcTimeout)

	readyAt := readySince(t, ns, "bystander-1", 90*time.Second)
	eventually(t, 2*rpcTimeout+time.Second, "the other network Ready", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(other.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != "True" {
			return fmt.Errorf("Ready: %+v", c)
		}
		return nil
	})
	t.Logf("other network: Ready in status %v after its last pod was Ready", time.Since(readyAt).Round(10*time.Millisecond))
}

// readySince waits for a pod to be Ready and returns when the test first
// saw it so.
func readySince(t *testing.T, ns, name string, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p := &corev1.Pod{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, p); err == nil && status.PodReady(p) {
			at = time.Now()
			return at
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pod %s not Ready within %v", name, timeout)
	return at
}
