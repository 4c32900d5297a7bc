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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// A private signet whose operator is killed eight times, at random, while
// it grinds the initial blocks or between a template and its submission,
// and four times while it makes a block an interval: the chain
// has one tip on every node (the operator never made two blocks at one
// height), the initial blocks are complete, and blocks keep coming; the
// longest gap between blocks is reported.
func TestASignetIsMinedOnceAcrossOperatorRestarts(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := fixture.NewNamespace(t, k8s)
	const initial, interval = 10, 3 * time.Second
	n := fixture.CreateNetworkWith(t, k8s, ns, "ticking", v1alpha1.ImplementationBitcoind, 3, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Chain = v1alpha1.ChainSignet
		n.Spec.Signet = &v1alpha1.SignetSpec{InitialBlocks: ptr.To[int32](initial), BlockInterval: &metav1.Duration{Duration: interval}}
	})
	rng := rand.New(rand.NewPCG(5, 11))
	var downs []time.Time
	lives := func(k int) {
		for range k {
			m := runOperator(t, envtest.ManagerOptions{})
			time.Sleep(time.Duration(1500+rng.IntN(2500)) * time.Millisecond)
			m.Stop()
			downs = append(downs, time.Now())
		}
	}
	// Eight short lives while it makes the initial blocks (each new one
	// waits for the tip to hold, then grinds until it is stopped)...
	lives(8)
	m := runOperator(t, envtest.ManagerOptions{})
	fixture.Eventually(t, 5*time.Minute, "initial blocks complete", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if n.Status.Mining == nil || n.Status.Mining.InitialBlocksHeight != initial {
			return fmt.Errorf("mining %+v at %d", n.Status.Mining, n.Status.TipHeight)
		}
		return nil
	})
	// ...and four more while it makes one block an interval.
	m.Stop()
	downs = append(downs, time.Now())
	lives(3)
	runOperator(t, envtest.ManagerOptions{})
	var nodes []bitcoin.Node
	fixture.Eventually(t, 5*time.Minute, "initial blocks complete and blocks coming", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if n.Status.Mining == nil || n.Status.Mining.InitialBlocksHeight != initial || n.Status.TipHeight < initial+5 || len(n.Status.Nodes) != 3 {
			return fmt.Errorf("mining %+v at %d", n.Status.Mining, n.Status.TipHeight)
		}
		return nil
	})
	for _, node := range n.Status.Nodes {
		c, err := podsim.NodeClient(ctx, k8s, n, node, rpcTimeout)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, c)
	}
	// One tip everywhere: a second block at some height would be a fork.
	for i, c := range nodes {
		tips, err := c.ChainTips(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(tips) != 1 || tips[0].Status != "active" {
			t.Errorf("%s has chain tips %+v, want one active tip", n.Status.Nodes[i].Name, tips)
		}
	}
	// Block times after the initial blocks.
	tip, err := nodes[0].BlockCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var times []int64
	for h := int64(initial); h <= tip; h++ {
		hash, err := nodes[0].BlockHash(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		var header struct {
			Time int64 `json:"time"`
		}
		if err := bitcoin.Call(ctx, nodes[0], "getblockheader", &header, hash); err != nil {
			t.Fatal(err)
		}
		times = append(times, header.Time)
	}
	// The gaps between blocks are reported, not asserted: under load a
	// block's proof of work alone can take longer than the interval (a
	// speed, measured by BenchmarkGrindAtTheSignetPowLimit).
	longest, killed := int64(0), 0
	for i := 1; i < len(times); i++ {
		if gap := times[i] - times[i-1]; gap > longest {
			longest, killed = gap, 0
			for _, d := range downs {
				if d.Unix() >= times[i-1] && d.Unix() <= times[i] {
					killed++
				}
			}
		}
	}
	// Blocks keep coming from the last operator: three more within a
	// bounded wait.
	fixture.Eventually(t, 2*time.Minute, "three more blocks", func() error {
		h, err := nodes[0].BlockCount(ctx)
		if err != nil {
			return err
		}
		if h < tip+3 {
			return fmt.Errorf("at %d, want %d", h, tip+3)
		}
		return nil
	})
	t.Logf("operator killed %d times (last at %s); %d blocks after the initial %d, longest gap %d s (%d kills within it)", len(downs), downs[len(downs)-1].Format(time.TimeOnly), len(times)-1, initial, longest, killed)
}
