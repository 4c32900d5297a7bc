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
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
)

// row is one line of the scale report (make bench prints the table and
// writes the rows as JSON to $BNO_BENCH_REPORT).
type row struct {
	Scenario string `json:"scenario"`
	Impl     string `json:"impl,omitempty"`
	Nodes    int    `json:"nodes,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	// ToConnectedMs: from every node answering RPC to every planned edge up.
	ToConnectedMs float64 `json:"toConnectedMs,omitempty"`
	// ToOneTipMs: from a partition's heal to every node at one tip.
	ToOneTipMs    float64 `json:"toOneTipMs,omitempty"`
	Connections   int     `json:"connections,omitempty"`
	RPCPerResync  int     `json:"rpcCallsPerResync,omitempty"`
	MaxOutDegree  int     `json:"maxOutDegree,omitempty"`
	RSSMiBPerNode float64 `json:"rssMiBPerNode,omitempty"`
	Note          string  `json:"note,omitempty"`
}

var (
	reportMu sync.Mutex
	report   []row
)

func addRow(r row) {
	reportMu.Lock()
	defer reportMu.Unlock()
	report = append(report, r)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if len(report) > 0 {
		printReport()
		if path := os.Getenv("BNO_BENCH_REPORT"); path != "" {
			raw, _ := json.MarshalIndent(map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "rows": report}, "", "  ")
			if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

func printReport() {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nSCENARIO\tIMPL\tNODES\tSTRATEGY\tTO CONNECTED\tTO ONE TIP\tCONNECTIONS\tRPC/RESYNC\tMAX OUT-DEGREE\tRSS/NODE\tNOTE")
	for _, r := range report {
		ms, tip := "", ""
		if r.ToConnectedMs > 0 {
			ms = fmt.Sprintf("%.0f ms", r.ToConnectedMs)
		}
		if r.ToOneTipMs > 0 {
			tip = fmt.Sprintf("%.0f ms", r.ToOneTipMs)
		}
		rss := ""
		if r.RSSMiBPerNode > 0 {
			rss = fmt.Sprintf("%.0f MiB", r.RSSMiBPerNode)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Impl, itoa(r.Nodes), r.Strategy, ms, tip,
			itoa(r.Connections), itoa(r.RPCPerResync), itoa(r.MaxOutDegree), rss, r.Note)
	}
	_ = w.Flush()
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// rssMiB is a process's resident memory, from /proc.
func rssMiB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// memAvailableMiB is what the kernel says new processes can use.
func memAvailableMiB() float64 {
	raw, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

func meanRSS(nodes []*node) float64 {
	total := 0.0
	for _, n := range nodes {
		total += rssMiB(n.pid())
	}
	return total / float64(len(nodes))
}

// maxOutDegree is the most peers any node added (its outbound planned
// connections), as the nodes report them.
func maxOutDegree(ctx context.Context, nodes []*node) int {
	most := 0
	for _, n := range nodes {
		added, err := n.client.AddedNodes(ctx)
		if err == nil {
			most = max(most, len(added))
		}
	}
	return most
}

func members(nodes []*node) ([]peering.Member, []string) {
	ms := make([]peering.Member, len(nodes))
	var addresses []string
	for i, n := range nodes {
		ms[i] = peering.Member{Ordinal: i, P2PAddress: n.p2p(), Node: n.client}
		addresses = append(addresses, n.p2p())
	}
	return ms, addresses
}

// repairUntilConnected runs passes as the peering controller does (one
// right after another while something changes) until the plan holds, for
// at most limit.
func repairUntilConnected(b *testing.B, ctx context.Context, ms []peering.Member, opts peering.Options, limit time.Duration) time.Duration {
	start := time.Now()
	for {
		r, err := peering.Repair(ctx, ms, opts)
		if err != nil {
			b.Fatal(err)
		}
		if r.ConnectedEdges == r.PlannedEdges && r.WaitingEdges == 0 {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			b.Fatalf("%d of %d planned edges after %v", r.ConnectedEdges, r.PlannedEdges, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkScaleOneNetwork wires one network of real nodes with the
// operator's peering (as its controller runs it), and with the seed's
// strategy where that can work, then restarts one node and measures its
// way back.
func BenchmarkScaleOneNetwork(b *testing.B) {
	subnet := 110
	for _, c := range []struct {
		impl  bitcoin.Implementation
		sizes []int
	}{{bitcoin.Btcd, []int{16, 32, 64, 100}}, {bitcoin.Bitcoind, []int{16, 32}}} {
		for _, size := range c.sizes {
			b.Run(fmt.Sprintf("impl=%s/nodes=%d", c.impl, size), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					subnet++
					nodes := startNodes(b, c.impl, size, subnet)
					ctx := context.Background()
					ms, addresses := members(nodes)
					opts := peering.Options{Implementation: c.impl, Topology: topology.Mesh, Size: size, NetworkAddresses: addresses,
						Concurrency: 8, PassTimeout: 5 * time.Second}
					took := repairUntilConnected(b, ctx, ms, opts, 2*time.Minute)
					steady, _ := peering.Repair(ctx, ms, opts)
					calls := 0
					for _, nr := range steady.Nodes {
						calls += nr.Calls
					}
					conns, _ := connections(ctx, nodes)
					r := row{Scenario: "one network", Impl: string(c.impl), Nodes: size, Strategy: "operator", ToConnectedMs: float64(took.Milliseconds()),
						Connections: conns, RPCPerResync: calls, MaxOutDegree: maxOutDegree(ctx, nodes), RSSMiBPerNode: meanRSS(nodes)}
					if c.impl == bitcoin.Bitcoind {
						avail := memAvailableMiB()
						r.Note = fmt.Sprintf("memory ceiling ≈ %.0f nodes (%.0f MiB available / %.0f MiB per idle regtest node)", avail/r.RSSMiBPerNode, avail, r.RSSMiBPerNode)
					}
					addRow(r)
					b.ReportMetric(float64(took.Milliseconds()), "ms-to-connected")
					b.ReportMetric(float64(r.MaxOutDegree), "max-out-degree")

					if c.impl == bitcoin.Btcd && size == 16 {
						// A node restarts (same data and IP); the readiness
						// change starts a pass at once.
						nodes[5].stop()
						nodes[5].restart()
						waitAnswering(b, nodes[5:6])
						back := repairUntilConnected(b, ctx, ms, opts, 2*time.Minute)
						addRow(row{Scenario: "node restart", Impl: string(c.impl), Nodes: size, Strategy: "operator", ToConnectedMs: float64(back.Milliseconds()),
							Note: "from the restarted node answering RPC to every planned edge up again"})
					}
					stopAll(nodes)
				}
			})
			b.Run(fmt.Sprintf("impl=%s/nodes=%d/seed", c.impl, size), func(b *testing.B) {
				switch {
				case c.impl == bitcoin.Bitcoind:
					addRow(row{Scenario: "one network", Impl: string(c.impl), Nodes: size, Strategy: "seed", Note: fmt.Sprintf(
						"cannot run: the seed adds all %d others on every node; Core connects at most %d added peers", size-1, topology.MaxAddedPeers)})
					b.Skip("the seed's full mesh exceeds Core's cap on added peers")
				case 2*(size-1) > 125:
					addRow(row{Scenario: "one network", Impl: string(c.impl), Nodes: size, Strategy: "seed", Note: fmt.Sprintf(
						"cannot run: %d connections per node (both ends add each pair) exceed btcd's 125 peers", 2*(size-1))})
					b.Skip("the seed's connections exceed btcd's maxpeers")
				}
				for i := 0; i < b.N; i++ {
					subnet++
					nodes := startNodes(b, c.impl, size, subnet)
					r := seedStrategy(context.Background(), b, c.impl, nodes)
					addRow(row{Scenario: "one network", Impl: string(c.impl), Nodes: size, Strategy: "seed", ToConnectedMs: float64(r.toConnected.Milliseconds()),
						Connections: r.connections, RPCPerResync: r.callsPerSync, MaxOutDegree: maxOutDegree(context.Background(), nodes),
						Note: "no verification: nothing repairs a lost connection"})
					stopAll(nodes)
				}
			})
		}
	}
}
