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
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
)

// A network deleted while a pass over its nodes is still running (one node
// hangs), and created again under the same name at once, starts from
// nothing: it mines its own initial blocks on its own new nodes, records
// them for itself, and uses its own Secrets, never the earlier network's.
func TestANetworkCreatedAgainUnderItsNameStartsFromNothing(t *testing.T) {
	ctx := context.Background()
	ns := fixture.NewNamespace(t, k8s)
	runOperator(t, envtest.ManagerOptions{})
	rng := rand.New(rand.NewPCG(5, 11))
	seenKeys := map[string]bool{}
	for round := range 3 {
		n := fixture.CreateNetworkWith(t, k8s, ns, "again", v1alpha1.ImplementationBitcoind, 2, func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 20}
		})
		fixture.Eventually(t, 90*time.Second, fmt.Sprintf("round %d: its own 20 blocks on its own nodes", round), func() error {
			return minedFor(ctx, n)
		})
		miner := &corev1.Secret{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "again-miner"}, miner); err != nil {
			t.Fatal(err)
		}
		key := string(miner.Data[resources.SecretKeyMinerPrivateKey])
		if owner := metav1.GetControllerOf(miner); owner == nil || owner.UID != n.UID || seenKeys[key] {
			t.Fatalf("round %d: the miner Secret (controller %+v) is not the new network's own", round, owner)
		}
		seenKeys[key] = true

		// Node 1 hangs: the next pass waits for it, and the network is
		// deleted while it does.
		if err := sim.ReplaceRPC(ns, "again-1", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(2000+rng.IntN(5000)) * time.Millisecond)
		if err := k8s.Delete(ctx, n); err != nil {
			t.Fatal(err)
		}
		fixture.Eventually(t, 10*time.Second, "the network gone", func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), &v1alpha1.BitcoinNetwork{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
	}
}

// minedFor checks that n's status records its initial blocks and that each
// of its nodes (pods it controls, by UID) is at that height.
func minedFor(ctx context.Context, n *v1alpha1.BitcoinNetwork) error {
	cur := &v1alpha1.BitcoinNetwork{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), cur); err != nil {
		return err
	}
	if cur.UID != n.UID {
		return fmt.Errorf("another network")
	}
	if cur.Status.Mining == nil || cur.Status.Mining.InitialBlocksHeight != 20 || len(cur.Status.Nodes) != 2 {
		return fmt.Errorf("status.mining %+v, %d nodes", cur.Status.Mining, len(cur.Status.Nodes))
	}
	for _, node := range cur.Status.Nodes {
		c, err := podsim.NodeClient(ctx, k8s, cur, node, rpcTimeout)
		if err != nil {
			return err
		}
		if h, err := c.BlockCount(ctx); err != nil || h != 20 {
			return fmt.Errorf("%s at height %d (%v)", node.Name, h, err)
		}
	}
	return nil
}
