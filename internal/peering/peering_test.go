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

package peering_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin/fake"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

func addr(i int) string { return fmt.Sprintf("127.0.50.%d:18444", i+1) }

func TestDecideAddsMissingEdgesFromThePlannedEndOnly(t *testing.T) {
	edges, _ := topology.Plan(topology.Mesh, 3) // 0→1, 2→0, 1→2
	members := []peering.Member{{Ordinal: 0, P2PAddress: addr(0)}, {Ordinal: 1, P2PAddress: addr(1)}, {Ordinal: 2, P2PAddress: addr(2)}}
	obs := map[int]peering.Observation{
		0: {Added: []bitcoin.AddedNode{{Address: addr(1), Connected: true}}},
		1: {},
		// 2 was connected to 1 by 1's old plan: the reverse direction counts.
		2: {Added: []bitcoin.AddedNode{{Address: addr(1), Connected: true}}},
	}
	d := peering.Decide(edges, members, obs, peering.Options{Topology: topology.Mesh, Size: 3})
	if d.PlannedEdges != 3 || d.ConnectedEdges != 2 {
		t.Errorf("planned %d connected %d, want 3 and 2", d.PlannedEdges, d.ConnectedEdges)
	}
	want := map[int]peering.Actions{2: {Add: []string{addr(0)}}}
	if len(d.Actions) != 1 || !slices.Equal(d.Actions[2].Add, want[2].Add) || len(d.Actions[2].Remove) != 0 {
		t.Errorf("actions %+v, want %+v", d.Actions, want)
	}
}

func TestDecideRemovesOnlyUnplannedPeersOfThisNetwork(t *testing.T) {
	edges, _ := topology.Plan(topology.Mesh, 2) // 0→1
	members := []peering.Member{{Ordinal: 0, P2PAddress: addr(0)}, {Ordinal: 1, P2PAddress: addr(1)}}
	external := "192.0.2.10:18444" // a peer the user added by hand
	obs := map[int]peering.Observation{
		0: {Added: []bitcoin.AddedNode{{Address: addr(1), Connected: true}, {Address: addr(2), Connected: true}, {Address: external}}},
		1: {},
	}
	opts := peering.Options{Topology: topology.Mesh, Size: 2, NetworkAddresses: []string{addr(0), addr(1), addr(2)}}
	d := peering.Decide(edges, members, obs, opts)
	if got := d.Actions[0]; len(got.Add) != 0 || !slices.Equal(got.Remove, []string{addr(2)}) {
		t.Errorf("actions on 0: %+v, want only the scaled-away node removed", got)
	}
	opts.Topology = topology.None
	none, _ := topology.Plan(topology.None, 2)
	if d := peering.Decide(none, members, obs, opts); len(d.Actions) != 0 {
		t.Errorf("topology none: %+v, want no actions", d.Actions)
	}
}

func TestDecideWaitsForNodesThatAreNotReady(t *testing.T) {
	edges, _ := topology.Plan(topology.Ring, 3)
	members := []peering.Member{{Ordinal: 0, P2PAddress: addr(0)}, {Ordinal: 1, P2PAddress: addr(1)}}
	obs := map[int]peering.Observation{0: {}, 1: {}}
	d := peering.Decide(edges, members, obs, peering.Options{Topology: topology.Ring, Size: 3})
	if d.PlannedEdges != 1 || d.WaitingEdges != 2 || !slices.Equal(d.Actions[0].Add, []string{addr(1)}) {
		t.Errorf("%+v: want 0→1 added and the two edges of the missing node waiting", d)
	}
}

// fakeNetwork starts n fake bitcoind nodes served over HTTP.
func fakeNetwork(t *testing.T, n int) ([]*fake.Node, []peering.Member) {
	t.Helper()
	network := fake.NewNetwork()
	var nodes []*fake.Node
	var members []peering.Member
	transport := bitcoin.Transport(nil)
	for i := 0; i < n; i++ {
		node := &fake.Node{P2PAddress: addr(i), RPCAuth: rpcauth.Value("u", "", "p"), Chain: "regtest", RetryInterval: time.Hour}
		node.Start(network)
		srv := httptest.NewServer(node)
		t.Cleanup(func() { srv.Close(); node.Stop() })
		nodes = append(nodes, node)
		members = append(members, peering.Member{Ordinal: i, P2PAddress: addr(i), Node: bitcoin.New(bitcoin.Bitcoind,
			bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://"), User: "u", Password: "p"}, transport, time.Second)})
	}
	return nodes, members
}

func TestRepairConnectsAFakeMeshAndThenHasNothingToDo(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{3, 8, 17} {
		_, members := fakeNetwork(t, size)
		opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: size, Concurrency: 4}
		first, err := peering.Repair(ctx, members, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !first.Repaired() || first.ConnectedEdges != 0 || first.PlannedEdges != size*(size-1)/2 {
			t.Errorf("size %d: first pass %d/%d connected, repaired %v", size, first.ConnectedEdges, first.PlannedEdges, first.Repaired())
		}
		second, _ := peering.Repair(ctx, members, opts)
		if second.Repaired() || second.ConnectedEdges != second.PlannedEdges {
			t.Errorf("size %d: second pass %d/%d connected, repaired %v; want a full mesh and no action", size, second.ConnectedEdges, second.PlannedEdges, second.Repaired())
		}
		for o, r := range second.Nodes {
			if r.Peers != size-1 || r.ExpectedPeers != size-1 {
				t.Errorf("size %d node %d: %d peers, expected %d; want %d", size, o, r.Peers, r.ExpectedPeers, size-1)
			}
		}
	}
}

func TestRepairReconnectsARestartedNodeAndIsolatesADeadOne(t *testing.T) {
	ctx := context.Background()
	nodes, members := fakeNetwork(t, 4)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 4, Concurrency: 2}
	if _, err := peering.Repair(ctx, members, opts); err != nil {
		t.Fatal(err)
	}
	// Node 2 restarts: Core forgets its added peers and drops connections.
	nodes[2].Stop()
	nodes[2].Start(fakeNetworkOf(t, nodes))
	r, _ := peering.Repair(ctx, members, opts)
	if !r.Repaired() || r.ConnectedEdges == r.PlannedEdges {
		t.Errorf("after a restart: %d/%d connected, repaired %v; want repairs", r.ConnectedEdges, r.PlannedEdges, r.Repaired())
	}
	r, _ = peering.Repair(ctx, members, opts)
	if r.ConnectedEdges != r.PlannedEdges {
		t.Errorf("after repair: %d/%d connected", r.ConnectedEdges, r.PlannedEdges)
	}
	// Node 3's RPC server disappears: only its report says so.
	members[3].Node = bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: "127.0.0.1:1"}, bitcoin.Transport(nil), time.Second)
	r, _ = peering.Repair(ctx, members, opts)
	for o, nr := range r.Nodes {
		if (o == 3) == nr.Reachable {
			t.Errorf("node %d reachable=%v (err %v)", o, nr.Reachable, nr.Err)
		}
	}
}

// fakeNetworkOf finds the network the fakes share (they were started on one).
func fakeNetworkOf(t *testing.T, nodes []*fake.Node) *fake.Network {
	t.Helper()
	return nodes[0].Network()
}

// A peer whose address accepts no connection makes bitcoind's onetry wait
// for Core's connect timeout. That is no fault of the node making the call:
// it stays reachable and still gets its other peers.
func TestAPeerThatNeverAnswersDoesNotMakeItsCallerUnreachable(t *testing.T) {
	ctx := context.Background()
	nodes, members := fakeNetwork(t, 5) // node 0 adds 1 and 3
	// Node 1's pod is ready, but nothing answers on its P2P address; it
	// sorts first among node 0's peers.
	members[1].P2PAddress = realnode.Blackhole(t, "127.0.49.1")
	// Longer than the client's 1 s deadline, as Core's 5 s is.
	nodes[0].ConnectTimeout, nodes[3].ConnectTimeout = 1500*time.Millisecond, 1500*time.Millisecond
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 5, Concurrency: 5}
	r, err := peering.Repair(ctx, members, opts)
	if err != nil {
		t.Fatal(err)
	}
	n0 := r.Nodes[0]
	if !n0.Reachable || n0.Err != nil || !slices.Equal(n0.Added, []string{members[1].P2PAddress, addr(3)}) {
		t.Fatalf("node 0: reachable %v, error %v, added %v; want both peers added and the node reachable", n0.Reachable, n0.Err, n0.Added)
	}
	// 0→1 and 3→1 lead to the silent address; every other edge is up.
	if r, _ = peering.Repair(ctx, members, opts); r.PlannedEdges != 10 || r.ConnectedEdges != 8 {
		t.Errorf("%d of %d edges connected, want all but the two to the silent address", r.ConnectedEdges, r.PlannedEdges)
	}
}

// Peer counts count this network's nodes only: a signet or testnet node also
// has public peers, and an inbound connection shows its source port, so a
// connection is recognised by the end that opened it.
func TestNetworkPeersCountOnlyThisNetworksNodes(t *testing.T) {
	edges, _ := topology.Plan(topology.Mesh, 3)
	members := []peering.Member{{Ordinal: 0, P2PAddress: addr(0)}, {Ordinal: 1, P2PAddress: addr(1)}, {Ordinal: 2, P2PAddress: addr(2)}}
	public := "203.0.113.5:38333"
	obs := map[int]peering.Observation{
		0: {Added: []bitcoin.AddedNode{{Address: addr(1), Connected: true}, {Address: public, Connected: true}}, Outbound: []string{addr(1), public}},
		1: {},
		2: {Outbound: []string{addr(0), "198.51.100.7:38333"}},
	}
	d := peering.Decide(edges, members, obs, peering.Options{Topology: topology.Mesh, Size: 3})
	want := map[int]int{0: 2, 1: 1, 2: 1}
	for o, w := range want {
		if d.NetworkPeers[o] != w {
			t.Errorf("node %d: %d network peers, want %d (all: %v)", o, d.NetworkPeers[o], w, d.NetworkPeers)
		}
	}
}

// A repair that makes no progress (the same add every pass, the edge still
// down) is retried less and less often, up to the check interval, and is
// not counted again; new work or progress brings the quick recheck back.
func TestRepairsWithoutProgressBackOff(t *testing.T) {
	interval := 30 * time.Second
	stuck := peering.Report{PlannedEdges: 3, ConnectedEdges: 2, Nodes: map[int]*peering.NodeReport{0: {Added: []string{addr(2)}}}}
	var p peering.Progress
	var delays []time.Duration
	var counted int
	for i := 0; i < 7; i++ {
		changed, _, after, next := p.Next(stuck, interval)
		delays = append(delays, after)
		counted += len(changed[0].Add)
		p = next
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
	if counted != 1 {
		t.Errorf("the same add counted %d times as a change, want once", counted)
	}
	// Another node restarts: new work, checked again soon.
	restarted := peering.Report{PlannedEdges: 3, ConnectedEdges: 1, Nodes: map[int]*peering.NodeReport{
		0: {Added: []string{addr(2)}}, 1: {Added: []string{addr(2)}},
	}}
	changed, _, after, p := p.Next(restarted, interval)
	if after != 2*time.Second || len(changed) != 1 || len(changed[1].Add) != 1 {
		t.Errorf("new work: recheck after %v, changed %v; want 2s and node 1's add", after, changed)
	}
	// All connected: the regular interval.
	if _, _, after, _ := p.Next(peering.Report{PlannedEdges: 3, ConnectedEdges: 3, Nodes: map[int]*peering.NodeReport{}}, interval); after != interval {
		t.Errorf("all connected: recheck after %v, want %v", after, interval)
	}
}

// An address whose removal failed stays in the record, and is removed once
// its node answers again: by then the IP may be another network's node.
func TestAddressesAreRememberedUntilNoNodeListsThem(t *testing.T) {
	ctx := context.Background()
	_, members := fakeNetwork(t, 3)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 3, Concurrency: 3}
	gone := "127.0.50.9:18444" // a scaled-away node's address, still added on node 0
	if err := members[0].Node.AddPeer(ctx, gone); err != nil {
		t.Fatal(err)
	}
	opts.NetworkAddresses = []string{addr(0), addr(1), addr(2), gone}
	// Node 0 does not answer: the removal cannot happen, and the address
	// must be kept.
	answering := members[0].Node
	members[0].Node = bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: "127.0.0.1:1"}, bitcoin.Transport(nil), time.Second)
	r, _ := peering.Repair(ctx, members, opts)
	if !slices.Contains(r.Record, gone) {
		t.Fatalf("record %v lost %s while node 0 did not answer", r.Record, gone)
	}
	members[0].Node = answering
	opts.NetworkAddresses = r.Record
	r, _ = peering.Repair(ctx, members, opts)
	if !slices.Equal(r.Nodes[0].Removed, []string{gone}) {
		t.Errorf("node 0 removed %v, want %s", r.Nodes[0].Removed, gone)
	}
	if slices.Contains(r.Record, gone) {
		t.Errorf("record %v keeps %s after every node dropped it", r.Record, gone)
	}
	if added, _ := members[0].Node.AddedNodes(ctx); slices.ContainsFunc(added, func(a bitcoin.AddedNode) bool { return a.Address == gone }) {
		t.Errorf("node 0 still lists %s", gone)
	}
}

// The record retires addresses no node lists, even while a node is
// silent (what it listed when it last answered stands for it), and never
// holds more than MaxRecord beyond the members' own.
func TestTheRecordIsBoundedAndRetiresWhatNoNodeLists(t *testing.T) {
	ctx := context.Background()
	_, members := fakeNetwork(t, 3)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 3, Concurrency: 3}
	var churned []string
	for i := range 2 * peering.MaxRecord {
		churned = append(churned, fmt.Sprintf("127.0.%d.%d:18444", 60+i/250, 1+i%250))
	}
	listedByNode1 := churned[7]
	if err := members[1].Node.AddPeer(ctx, listedByNode1); err != nil {
		t.Fatal(err)
	}
	opts.NetworkAddresses = append([]string{addr(0), addr(1), addr(2)}, churned...)
	// Node 0 is silent and its list was never read: everything is kept,
	// up to the bound.
	answering := members[0].Node
	members[0].Node = bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: "127.0.0.1:1"}, bitcoin.Transport(nil), time.Second)
	r, _ := peering.Repair(ctx, members, opts)
	if len(r.Record) != 3+peering.MaxRecord {
		t.Errorf("record of %d addresses, want the 3 members' and %d more", len(r.Record), peering.MaxRecord)
	}
	// Node 1 removed the churned address it listed: no plan has it.
	if !slices.Equal(r.Nodes[1].Removed, []string{listedByNode1}) {
		t.Errorf("node 1 removed %v, want %s", r.Nodes[1].Removed, listedByNode1)
	}
	// Node 0's list is known from an earlier pass (empty): only what a
	// node lists is kept, and no node lists anything beyond the members.
	opts.Known = map[int][]string{0: nil}
	r, _ = peering.Repair(ctx, members, opts)
	if want := []string{addr(0), addr(1), addr(2)}; !slices.Equal(r.Record, want) {
		t.Errorf("record %v, want only the members %v", r.Record, want)
	}
	// A silent node's last list is kept for it.
	opts.Known = map[int][]string{0: {churned[3]}}
	if r, _ = peering.Repair(ctx, members, opts); !slices.Contains(r.Record, churned[3]) || len(r.Record) != 4 {
		t.Errorf("record %v, want the members and %s, which silent node 0 listed", r.Record, churned[3])
	}
	members[0].Node = answering
}

// Bitcoin Core's addnode onetry answers null whether it connected or not:
// an added peer that did not connect is seen on the next pass, which
// adds it again.
func TestAConnectionThatOnetryDidNotMakeIsSeenOnTheNextPass(t *testing.T) {
	ctx := context.Background()
	nodes, members := fakeNetwork(t, 2)
	members[1].P2PAddress = realnode.Blackhole(t, "127.0.49.2")
	nodes[0].ConnectTimeout = 100 * time.Millisecond
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 2, Concurrency: 2}
	var p peering.Progress
	first, _ := peering.Repair(ctx, members, opts)
	if first.Nodes[0].Err != nil || !slices.Equal(first.Nodes[0].Added, []string{members[1].P2PAddress}) {
		t.Fatalf("first pass: node 0 added %v (%v)", first.Nodes[0].Added, first.Nodes[0].Err)
	}
	_, unconnected, _, p := p.Next(first, time.Minute)
	if len(unconnected) != 0 {
		t.Errorf("first pass: %v reported unconnected before any pass looked", unconnected)
	}
	second, _ := peering.Repair(ctx, members, opts)
	if _, unconnected, _, _ = p.Next(second, time.Minute); !slices.Equal(unconnected[0].Add, []string{members[1].P2PAddress}) {
		t.Errorf("second pass: unconnected %v, want node 0's peer %s", unconnected, members[1].P2PAddress)
	}
}

// A hung node costs a pass its PassTimeout, not its calls' own (longer)
// deadline: the other nodes are observed and repaired regardless.
func TestAHungNodeDelaysTheOthersOnlyByThePassTimeout(t *testing.T) {
	ctx := context.Background()
	_, members := fakeNetwork(t, 4)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	// Node 3's RPC hangs; its calls would wait out 5 s each.
	members[3].Node = bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(hung.URL, "http://")}, bitcoin.Transport(nil), 5*time.Second)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 4, Concurrency: 4, PassTimeout: 300 * time.Millisecond}
	start := time.Now()
	r, err := peering.Repair(ctx, members, opts)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took > 2*time.Second {
		t.Errorf("the pass took %v with a 300ms pass timeout: it waited for the hung node", took)
	}
	if r.Nodes[3].Reachable || r.Nodes[3].Err == nil {
		t.Errorf("the hung node is not marked: %+v", r.Nodes[3])
	}
	// Among nodes 0..2 every edge (0→1, 2→0, 1→2) was added this pass.
	added := 0
	for o := 0; o < 3; o++ {
		added += len(r.Nodes[o].Added)
	}
	if added != 3 {
		t.Errorf("%d edges among the healthy nodes added, want 3", added)
	}
}

// One pass makes at most MaxActions changes on a node, removals first.
func TestActionsPerPassAreCapped(t *testing.T) {
	ctx := context.Background()
	_, members := fakeNetwork(t, 2)
	var stale []string
	for i := 0; i < 20; i++ {
		a := fmt.Sprintf("127.0.51.%d:18444", i+1)
		stale = append(stale, a)
		if err := members[0].Node.AddPeer(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 2, Concurrency: 2, MaxActions: 5,
		NetworkAddresses: append([]string{addr(0), addr(1)}, stale...)}
	r, _ := peering.Repair(ctx, members, opts)
	if n := len(r.Nodes[0].Removed) + len(r.Nodes[0].Added); n != 5 || len(r.Nodes[0].Removed) != 5 {
		t.Errorf("node 0: removed %d, added %d in one pass; want 5 removals", len(r.Nodes[0].Removed), len(r.Nodes[0].Added))
	}
}

// A node known to have timed out gets only SuspectTimeout in later passes.
func TestASuspectNodeGetsTheShortBudget(t *testing.T) {
	ctx := context.Background()
	_, members := fakeNetwork(t, 3)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	members[2].Node = bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(hung.URL, "http://")}, bitcoin.Transport(nil), 5*time.Second)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 3, Concurrency: 3,
		PassTimeout: 5 * time.Second, Suspect: map[int]bool{2: true}, SuspectTimeout: 100 * time.Millisecond}
	start := time.Now()
	r, err := peering.Repair(ctx, members, opts)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the pass took %v: the suspect node was given the full pass timeout", took)
	}
	if r.Nodes[2].Reachable || len(r.Nodes[0].Added)+len(r.Nodes[1].Added) != 1 {
		t.Errorf("suspect %+v; healthy nodes added %v and %v, want the one edge between them", r.Nodes[2], r.Nodes[0].Added, r.Nodes[1].Added)
	}
}

// A node may hold two connections under one address (an added peer's and
// one its own logic opened): closing by address closes the first only, so
// a removal closes each by its id.
func TestARemovalClosesEveryConnectionToTheAddress(t *testing.T) {
	ctx := context.Background()
	nodes, members := fakeNetwork(t, 2)
	if err := members[0].Node.AddPeer(ctx, addr(1)); err != nil {
		t.Fatal(err)
	}
	if err := members[0].Node.ConnectOnce(ctx, addr(1)); err != nil {
		t.Fatal(err)
	}
	if !nodes[0].OpenSecondConnection(addr(1)) || nodes[0].Connections(addr(1)) != 2 {
		t.Fatalf("node 0 has %d connections to node 1, want 2", nodes[0].Connections(addr(1)))
	}
	if err := members[0].Node.RemovePeer(ctx, addr(1)); err != nil {
		t.Fatal(err)
	}
	if got := nodes[0].Connections(addr(1)); got != 0 {
		t.Errorf("%d connections to the removed peer remain, want none", got)
	}
}

// Core's added-peer loop and an addnode onetry can both connect to a new
// peer at once (seen on real Core: two connections 11→8 in a 20-node
// mesh). A pass closes the second and keeps the planned one.
func TestAPassClosesASecondConnectionToAPeer(t *testing.T) {
	ctx := context.Background()
	nodes, members := fakeNetwork(t, 2)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 2, Concurrency: 2,
		NetworkAddresses: []string{addr(0), addr(1)}}
	if _, err := peering.Repair(ctx, members, opts); err != nil {
		t.Fatal(err)
	}
	if !nodes[0].OpenSecondConnection(addr(1)) || nodes[0].Connections(addr(1)) != 2 {
		t.Fatalf("node 0 has %d connections to node 1, want 2", nodes[0].Connections(addr(1)))
	}
	r, err := peering.Repair(ctx, members, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := nodes[0].Connections(addr(1)); got != 1 || len(r.Nodes[0].Closed) != 1 || len(r.Nodes[0].Removed)+len(r.Nodes[0].Added) != 0 {
		t.Errorf("after a pass: %d connections to node 1 (want 1), closed %v, added %v, removed %v (want one closed, none added or removed)",
			got, r.Nodes[0].Closed, r.Nodes[0].Added, r.Nodes[0].Removed)
	}
	if r.ConnectedEdges != 1 || r.PlannedEdges != 1 {
		t.Errorf("%d of %d planned edges up, want 1 of 1", r.ConnectedEdges, r.PlannedEdges)
	}
}

// Release lets a large network's pass close each node's connection when it
// is done with it; without it the connections stay open for the next pass.
func TestReleaseLeavesNoConnectionOpenAfterAPass(t *testing.T) {
	ctx := context.Background()
	const size = 12
	open := func(release bool) int64 {
		network := fake.NewNetwork()
		var members []peering.Member
		var transports []*http.Transport
		var conns atomic.Int64
		for i := 0; i < size; i++ {
			node := &fake.Node{P2PAddress: addr(i), RPCAuth: rpcauth.Value("u", "", "p"), Chain: "regtest", RetryInterval: time.Hour}
			node.Start(network)
			srv := httptest.NewUnstartedServer(node)
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				switch s {
				case http.StateNew:
					conns.Add(1)
				case http.StateClosed, http.StateHijacked:
					conns.Add(-1)
				}
			}
			srv.Start()
			t.Cleanup(func() { srv.Close(); node.Stop() })
			transport := bitcoin.Transport(nil)
			transports = append(transports, transport)
			t.Cleanup(transport.CloseIdleConnections)
			members = append(members, peering.Member{Ordinal: i, P2PAddress: addr(i), Node: bitcoin.New(bitcoin.Bitcoind,
				bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://"), User: "u", Password: "p"}, transport, time.Second)})
		}
		opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: size, Concurrency: 3}
		if release {
			opts.Release = func(m peering.Member) { transports[m.Ordinal].CloseIdleConnections() }
		}
		for pass := 0; pass < 2; pass++ {
			report, err := peering.Repair(ctx, members, opts)
			if err != nil {
				t.Fatal(err)
			}
			if pass == 1 && report.ConnectedEdges != report.PlannedEdges {
				t.Fatalf("release %v: %d of %d edges after two passes", release, report.ConnectedEdges, report.PlannedEdges)
			}
		}
		// The servers see a close a moment after the client makes it.
		for deadline := time.Now().Add(5 * time.Second); release && conns.Load() > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		return conns.Load()
	}
	if kept := open(false); kept < size {
		t.Errorf("without Release %d connections stayed open; want one per node (%d)", kept, size)
	}
	if kept := open(true); kept != 0 {
		t.Errorf("with Release %d connections stayed open; want none", kept)
	}
}

// A partition cuts every connection across its sides and bans them both
// ways; healing lifts the bans and restores the plan.
func TestAPartitionCutsAndBansAcrossSidesAndHealsBack(t *testing.T) {
	ctx := context.Background()
	nodes, members := fakeNetwork(t, 6)
	opts := peering.Options{Implementation: bitcoin.Bitcoind, Topology: topology.Mesh, Size: 6, Concurrency: 3, Bans: true}
	for _, m := range members {
		opts.NetworkAddresses = append(opts.NetworkAddresses, m.P2PAddress)
	}
	for pass := 0; pass < 2; pass++ {
		if _, err := peering.Repair(ctx, members, opts); err != nil {
			t.Fatal(err)
		}
	}
	side := []int{0, 0, 0, 1, 1, 1}
	split := opts
	split.Side = side
	first, err := peering.Repair(ctx, members, split)
	if err != nil {
		t.Fatal(err)
	}
	if first.PlannedEdges != 6 {
		t.Errorf("split: %d planned edges, want two triangles (6)", first.PlannedEdges)
	}
	for i, n := range nodes {
		for j, peer := range nodes {
			if side[i] != side[j] && n.Connections(peer.P2PAddress) > 0 {
				t.Errorf("node %d still connected to node %d across the partition", i, j)
			}
		}
	}
	for o, r := range first.Nodes {
		if len(r.Banned) != 3 || !r.BansKept {
			t.Errorf("node %d banned %v (kept %v); want the other side's 3 addresses", o, r.Banned, r.BansKept)
		}
	}
	// Neither side connects across by itself: a onetry across is refused.
	if err := bitcoin.Call(ctx, members[0].Node, "addnode", nil, members[3].P2PAddress, "onetry"); err != nil {
		t.Fatal(err)
	}
	again, _ := peering.Repair(ctx, members, split)
	if again.ConnectedEdges != 6 {
		t.Errorf("split, second pass: %d of %d edges up", again.ConnectedEdges, again.PlannedEdges)
	}
	for o, r := range again.Nodes {
		if r.Peers != 2 || len(r.Banned)+len(r.Unbanned)+len(r.Removed) > 0 {
			t.Errorf("split, second pass, node %d: %d peers, banned %v, unbanned %v, removed %v; want 2 peers and nothing to do", o, r.Peers, r.Banned, r.Unbanned, r.Removed)
		}
	}
	healed, _ := peering.Repair(ctx, members, opts)
	for o, r := range healed.Nodes {
		if len(r.Unbanned) != 3 || !r.BansKept {
			t.Errorf("heal, node %d: unbanned %v; want the 3 bans lifted", o, r.Unbanned)
		}
	}
	after, _ := peering.Repair(ctx, members, opts)
	if after.ConnectedEdges != 15 {
		t.Errorf("after the heal: %d of %d edges up, want the mesh's 15", after.ConnectedEdges, after.PlannedEdges)
	}
}
