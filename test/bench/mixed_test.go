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
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// mixedReleases are the groups of the mixed real network, in order: the
// four node programs the operator runs side by side.
var mixedReleases = []struct{ name, release string }{
	{"core-29.3", ""}, {"core-30.0", realnode.Core30}, {"knots", realnode.Knots}, {"btcd", "btcd"},
}

// BenchmarkScaleMixed wires one network of real nodes in four groups
// (Bitcoin Core 29.3 and 30.0, Knots, btcd) with the operator's peering
// and its cross-group plan, for growing group sizes: the largest real
// mixed network this machine holds, with its figures.
func BenchmarkScaleMixed(b *testing.B) {
	subnet := 130
	for _, perGroup := range []int{8, 16, 25, 50} {
		b.Run(fmt.Sprintf("nodes=%d", 4*perGroup), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var nodes []*node
				ms := []peering.Member{}
				var addresses []string
				var sizes []int
				rss := map[string]float64{}
				byGroup := map[string][]*node{}
				for _, g := range mixedReleases {
					subnet++
					var group []*node
					impl := bitcoin.Bitcoind
					if g.release == "btcd" {
						impl = bitcoin.Btcd
						group = startBtcd(b, perGroup, subnet)
					} else {
						dir, err := realnode.ReleaseDir(g.release)
						if err != nil {
							b.Skip(err)
						}
						group = startCore(b, dir, perGroup, subnet)
					}
					for _, n := range group {
						ms = append(ms, peering.Member{Ordinal: len(nodes), P2PAddress: n.p2p(), Node: n.client, Implementation: impl})
						addresses = append(addresses, n.p2p())
						nodes = append(nodes, n)
					}
					sizes = append(sizes, perGroup)
					byGroup[g.name] = group
				}
				ctx := context.Background()
				opts := peering.Options{Topology: topology.Mesh, Size: len(nodes), Sizes: sizes, NetworkAddresses: addresses,
					Concurrency: 8, PassTimeout: 5 * time.Second}
				took := repairUntilConnected(b, ctx, ms, opts, 2*time.Minute)
				steady, _ := peering.Repair(ctx, ms, opts)
				calls := 0
				for _, nr := range steady.Nodes {
					calls += nr.Calls
				}
				conns, _ := connections(ctx, nodes)
				var perKind []string
				for _, g := range mixedReleases {
					rss[g.name] = meanRSS(byGroup[g.name])
					perKind = append(perKind, fmt.Sprintf("%s %.0f", g.name, rss[g.name]))
				}
				addRow(row{Scenario: "one mixed network", Impl: "core 29.3, core 30.0, knots, btcd", Nodes: len(nodes), Strategy: "operator",
					ToConnectedMs: float64(took.Milliseconds()), Connections: conns, RPCPerResync: calls, MaxOutDegree: maxOutDegree(ctx, nodes),
					RSSMiBPerNode: meanRSS(nodes),
					Note:          fmt.Sprintf("4 groups of %d; RSS per node (MiB): %s; %.0f MiB still available", perGroup, strings.Join(perKind, ", "), memAvailableMiB())})
				b.ReportMetric(float64(took.Milliseconds()), "ms-to-connected")
				stopAll(nodes)
			}
		})
	}
}
