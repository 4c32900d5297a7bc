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

package bench

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// healPassEvery is how often the peering controller passes over a network
// while a healed fault has not converged (controllers/nodes afterHeal).
const healPassEvery = time.Second

// BenchmarkScaleHeal measures a partition's heal on real Bitcoin Core
// nodes as the peering controller makes it: the nodes wired in the
// operator's mesh, split in two halves (planned connections within each,
// every connection across closed, the other side banned), 2 blocks mined
// on the first half and 4 on the second; then the heal (bans lifted, the
// plan restored by passes a second apart) and the time from its first
// pass to every node at the 4-block tip.
func BenchmarkScaleHeal(b *testing.B) {
	subnet := 150
	for _, size := range []int{6, 16, 32} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			dir := realnode.RequireBitcoind(b)
			for i := 0; i < b.N; i++ {
				subnet++
				healOnce(b, dir, size, subnet)
			}
		})
	}
}

func healOnce(b *testing.B, dir string, size, subnet int) {
	ctx := context.Background()
	var nodes []*node
	for i := range size {
		// The lines the operator renders for regtest Core: no automatic
		// outbound connection, no initial block download on an old tip.
		bn := realnode.StartBitcoind(b, dir, realnode.BitcoindOptions{IP: fmt.Sprintf("127.%d.0.%d", subnet, i+2), Config: []string{"connect=0", "maxtipage=2147483647"}})
		nodes = append(nodes, &node{ip: bn.IP, stop: func() { bn.Process.Stop(10 * time.Second) }, client: bn.Client(5 * time.Second), pid: bn.Process.Pid})
	}
	defer stopAll(nodes)
	waitAnswering(b, nodes)
	ms, addresses := members(nodes)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: size, NetworkAddresses: addresses,
		Concurrency: 8, PassTimeout: 5 * time.Second, Bans: true}
	repairUntilConnected(b, ctx, ms, opts, 2*time.Minute)

	split := opts
	split.Side = make([]int, size)
	for i := size / 2; i < size; i++ {
		split.Side[i] = 1
	}
	repairUntilConnected(b, ctx, ms, split, 2*time.Minute)
	if _, err := nodes[0].client.Mine(ctx, 2, benchAddress("first side")); err != nil {
		b.Fatal(err)
	}
	if _, err := nodes[size/2].client.Mine(ctx, 4, benchAddress("second side")); err != nil {
		b.Fatal(err)
	}
	waitHeights(b, nodes, func(i int) int64 { return int64(2 + 2*split.Side[i]) })

	stop := make(chan struct{})
	passes := make(chan int, 1)
	go func() {
		n := 0
		defer func() { passes <- n }()
		for {
			if _, err := peering.Repair(ctx, ms, opts); err != nil {
				b.Error(err)
				return
			}
			n++
			select {
			case <-stop:
				return
			case <-time.After(healPassEvery):
			}
		}
	}()
	tip, err := nodes[size/2].client.BlockHash(ctx, 4)
	if err != nil {
		b.Fatal(err)
	}
	took, err := untilOneTip(ctx, nodes, tip, 2*time.Minute)
	close(stop)
	n := <-passes
	if err != nil {
		b.Fatal(err)
	}
	addRow(row{Scenario: "heal to one tip", Impl: string(bitcoin.Bitcoind), Nodes: size, Strategy: "operator", ToOneTipMs: float64(took.Milliseconds()),
		Note: fmt.Sprintf("%d|%d partition, 2 vs 4 blocks; %d peering passes ran", size/2, size-size/2, n)})
	b.ReportMetric(float64(took.Milliseconds()), "ms-to-one-tip")
}

// benchAddress is a regtest pay-to-witness-script address no one holds.
func benchAddress(phrase string) string {
	script := sha256.Sum256([]byte(phrase))
	a, err := btcutil.NewAddressWitnessScriptHash(script[:], &chaincfg.RegressionNetParams)
	if err != nil {
		panic(err)
	}
	return a.EncodeAddress()
}

// waitHeights waits until node i is at height want(i).
func waitHeights(b *testing.B, nodes []*node, want func(int) int64) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for i, n := range nodes {
		for {
			h, err := n.client.BlockCount(context.Background())
			if err == nil && h == want(i) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("node %d at %d (%v), want %d", i, h, err, want(i))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// untilOneTip polls every node's best block until all are at tip.
func untilOneTip(ctx context.Context, nodes []*node, tip string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		at := 0
		for _, n := range nodes {
			if info, err := n.client.ChainInfo(ctx); err == nil && info.BestBlockHash == tip {
				at++
			}
		}
		if at == len(nodes) {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("%d of %d nodes at %s after %v", at, len(nodes), tip, limit)
		}
		time.Sleep(50 * time.Millisecond) // 32 nodes: 640 calls a second
	}
}
