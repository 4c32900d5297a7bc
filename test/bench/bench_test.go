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

// Package bench measures peer wiring on real btcd and Bitcoin Core nodes:
// this operator's strategy (a planned graph, each edge added from one end,
// verified and repaired) against the seed controller's (every node adds
// every other, from both ends, no verification). Run with "make bench".
package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

const serverName = "node.bench.local"

type node struct {
	ip     string
	stop   func()
	client bitcoin.Node
	// pid is the node process's ID; restart (btcd only) starts it again
	// on its data and IP after stop.
	pid     func() int
	restart func()
}

func (n *node) p2p() string { return net.JoinHostPort(n.ip, "18444") }

func stopAll(nodes []*node) {
	for _, n := range nodes {
		n.stop()
	}
}

// startNodes starts size nodes of an implementation on their own loopback
// IPs and waits until each answers RPC.
func startNodes(b *testing.B, impl bitcoin.Implementation, size int, subnet int) []*node {
	if impl == bitcoin.Bitcoind {
		return startBitcoind(b, size, subnet)
	}
	return startBtcd(b, size, subnet)
}

// startBitcoind starts real Bitcoin Core v29.3 nodes (see realnode).
func startBitcoind(b *testing.B, size int, subnet int) []*node {
	b.Helper()
	return startCore(b, realnode.RequireBitcoind(b), size, subnet)
}

// startCore starts nodes of the Bitcoin Core release (or derivative) in
// dir, each on its own loopback IP, and waits until they answer RPC.
func startCore(b *testing.B, dir string, size int, subnet int) []*node {
	b.Helper()
	var nodes []*node
	for i := 0; i < size; i++ {
		bn := realnode.StartBitcoind(b, dir, realnode.BitcoindOptions{IP: fmt.Sprintf("127.%d.0.%d", subnet, i+2)})
		nodes = append(nodes, &node{ip: bn.IP, stop: func() { bn.Process.Stop(10 * time.Second) }, client: bn.Client(5 * time.Second), pid: bn.Process.Pid})
	}
	waitAnswering(b, nodes)
	return nodes
}

func waitAnswering(b *testing.B, nodes []*node) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for {
			if _, err := n.client.BlockCount(context.Background()); err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("node on %s did not answer RPC", n.ip)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// startBtcd starts btcd processes.
func startBtcd(b *testing.B, size int, subnet int) []*node {
	b.Helper()
	out, err := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "tools.sh"), "btcd").Output()
	if err != nil {
		b.Fatalf("building btcd: %v", err)
	}
	btcd := filepath.Join(strings.TrimSpace(string(out)), "btcd")
	dir := b.TempDir()
	bundle, err := pki.Issue("bench CA", []string{serverName}, nil, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cert, bundle.ServerCert, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(key, bundle.ServerKey, 0o600); err != nil {
		b.Fatal(err)
	}
	pool, _ := pki.CertPool(bundle.CACert)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	var nodes []*node
	for i := 0; i < size; i++ {
		ip := fmt.Sprintf("127.%d.0.%d", subnet, i+2)
		data := filepath.Join(dir, ip)
		args := []string{"--regtest", "--listen=" + ip + ":18444", "--rpclisten=" + ip + ":18334",
			"--rpccert=" + cert, "--rpckey=" + key, "--rpcuser=u", "--rpcpass=p",
			"--datadir=" + filepath.Join(data, "data"), "--logdir=" + filepath.Join(data, "logs"), "--utxocachemaxsize=16"}
		n := &node{ip: ip}
		var cmd *exec.Cmd
		stopped := true
		n.restart = func() {
			cmd = exec.Command(btcd, args...)
			cmd.Env = []string{"HOME=" + data}
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			stopped = false
		}
		n.stop = func() {
			if !stopped {
				stopped = true
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
			}
		}
		n.pid = func() int { return cmd.Process.Pid }
		n.restart()
		n.client = bitcoin.New(bitcoin.Btcd, bitcoin.Endpoint{Address: ip + ":18334", User: "u", Password: "p", TLS: tlsConfig},
			bitcoin.Transport(tlsConfig), 5*time.Second)
		nodes = append(nodes, n)
	}
	b.Cleanup(func() { stopAll(nodes) })
	waitAnswering(b, nodes)
	return nodes
}

// connections counts the network's live connections (each counted at both
// ends, so halved) and whether every pair of nodes is connected.
func connections(ctx context.Context, nodes []*node) (int, bool) {
	total := 0
	full := true
	for _, n := range nodes {
		peers, err := n.client.Peers(ctx)
		if err != nil {
			return 0, false
		}
		total += len(peers)
		if len(peers) < len(nodes)-1 {
			full = false
		}
	}
	return total / 2, full
}

type result struct {
	toConnected  time.Duration
	connections  int
	callsPerSync int
}

// operatorStrategy runs repair passes as the reconciler does until the plan
// holds, then measures one steady-state pass.
func operatorStrategy(ctx context.Context, b *testing.B, impl bitcoin.Implementation, nodes []*node) result {
	members, addresses := members(nodes)
	opts := peering.Options{Implementation: impl, Topology: topology.Mesh, Size: len(nodes), NetworkAddresses: addresses, Concurrency: 8}
	elapsed := repairUntilConnected(b, ctx, members, opts, time.Minute)
	steady, _ := peering.Repair(ctx, members, opts)
	calls := 0
	for _, nr := range steady.Nodes {
		calls += nr.Calls
	}
	conns, _ := connections(ctx, nodes)
	return result{toConnected: elapsed, connections: conns, callsPerSync: calls}
}

// seedStrategy is the seed controller's algorithm: every node reads its
// added nodes and adds every other node missing from the list; both ends
// add each pair, and nothing verifies the result.
func seedStrategy(ctx context.Context, b *testing.B, _ bitcoin.Implementation, nodes []*node) result {
	pass := func() int {
		calls := 0
		for _, n := range nodes {
			calls++
			added, err := n.client.AddedNodes(ctx)
			if err != nil {
				b.Fatal(err)
			}
			have := map[string]bool{}
			for _, a := range added {
				have[a.Address] = true
			}
			for _, peer := range nodes {
				if peer == n || have[peer.p2p()] {
					continue
				}
				calls++
				// The seed's call, errors ignored as it ignores "already added".
				_ = bitcoin.Call(ctx, n.client, "addnode", nil, peer.p2p(), "add")
			}
		}
		return calls
	}
	start := time.Now()
	pass()
	// The seed makes no second pass; we only watch until every pair is up.
	for {
		if _, full := connections(ctx, nodes); full {
			break
		}
		if time.Since(start) > time.Minute {
			b.Fatal("seed strategy did not connect every pair")
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // let both ends' connections settle
	conns, _ := connections(ctx, nodes)
	return result{toConnected: elapsed, connections: conns, callsPerSync: pass()}
}

func BenchmarkPeerWiring(b *testing.B) {
	subnet := 70
	for _, impl := range []bitcoin.Implementation{bitcoin.Btcd, bitcoin.Bitcoind} {
		for _, size := range []int{4, 8, 16} {
			for _, strategy := range []struct {
				name string
				run  func(context.Context, *testing.B, bitcoin.Implementation, []*node) result
			}{{"operator", operatorStrategy}, {"seed", seedStrategy}} {
				b.Run(fmt.Sprintf("impl=%s/nodes=%d/%s", impl, size, strategy.name), func(b *testing.B) {
					if impl == bitcoin.Bitcoind && strategy.name == "seed" && size-1 > topology.MaxAddedPeers {
						b.Skipf("the seed adds %d peers per node; Bitcoin Core connects at most %d added peers, so the full mesh never forms", size-1, topology.MaxAddedPeers)
					}
					var sum result
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						subnet++
						nodes := startNodes(b, impl, size, subnet)
						b.StartTimer()
						r := strategy.run(context.Background(), b, impl, nodes)
						b.StopTimer()
						sum.toConnected += r.toConnected
						sum.connections += r.connections
						sum.callsPerSync += r.callsPerSync
						stopAll(nodes)
					}
					b.ReportMetric(float64(sum.toConnected.Milliseconds())/float64(b.N), "ms-to-connected")
					b.ReportMetric(float64(sum.connections)/float64(b.N), "connections")
					b.ReportMetric(float64(sum.callsPerSync)/float64(b.N), "rpc-calls/resync")
				})
			}
		}
	}
}
