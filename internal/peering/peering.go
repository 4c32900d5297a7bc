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

// Package peering verifies and repairs a network's peer-to-peer graph over
// the nodes' RPC: it reads each node's added peers and live connections,
// adds the planned peers that are missing and removes the ones the plan no
// longer has. It knows nothing of Kubernetes.
package peering

import (
	"cmp"
	"context"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
)

// Member is one node of the network, by ordinal.
type Member struct {
	Ordinal int
	// P2PAddress is the "ip:port" its peers connect to.
	P2PAddress string
	// Node is its RPC client; nil when the node is not ready, so it is
	// neither called nor connected to.
	Node bitcoin.Node
	// AskVersion adds getnetworkinfo to the node's calls of this pass
	// (the caller asks once per node process, not every pass).
	AskVersion bool
	// Implementation is the node's dialect; Options.Implementation when
	// empty.
	Implementation bitcoin.Implementation
}

// Options of a repair pass.
type Options struct {
	Implementation bitcoin.Implementation
	Topology       topology.Kind
	// Size is the number of nodes the network should have: the plan is
	// made for all of them, and edges to nodes not ready wait.
	Size int
	// Sizes, when set, are the sizes of the network's groups (Size is
	// their sum): member ordinals are global indexes, group by group (see
	// topology.PlanGroups).
	Sizes []int
	// NetworkAddresses are P2P addresses that belong (or belonged) to this
	// network: its members' and the record of every address it was given
	// (Report.Record). Only added peers among them are removed when
	// unplanned, so peers a user added by hand stay.
	NetworkAddresses []string
	// Concurrency bounds the nodes called at once.
	Concurrency int
	// PassTimeout bounds the observation of the nodes, asked concurrently
	// (each node's calls too), so that slow nodes cost a pass at most this
	// long before the others are repaired; their changes get as long again
	// (plus Core's connect timeout for onetry). 0 leaves each call's own
	// deadline as the only bound.
	PassTimeout time.Duration
	// MaxActions caps a node's adds and removes in one pass (0: 16): a
	// hostile or confused node cannot make one pass arbitrarily long. The
	// rest waits for the next pass.
	MaxActions int
	// Known are the network addresses each member listed as added peers
	// when it last answered (NodeReport.Listed of an earlier pass): while a
	// member is silent, the record keeps what it listed.
	Known map[int][]string
	// Suspect are the ordinals of nodes whose last observation timed out;
	// they get SuspectTimeout (when shorter than the pass's) to answer, so
	// a hung node does not hold up every pass of its network. The caller
	// probes them with a full deadline elsewhere.
	Suspect        map[int]bool
	SuspectTimeout time.Duration
	// Release, when set, is called after each phase's calls to a member
	// (its observation, then its changes), so that the caller can close
	// the node's idle connections: a large network then holds open at
	// most Concurrency of them instead of one per node.
	Release func(Member)
	// Side, when set, splits the network for a fault: Side[i] is the side
	// of the node with global index i (one entry per planned node). No
	// edge between sides is planned (topology.Partition keeps each side
	// connected), and a node's added peers and outbound connections on
	// another side are removed.
	Side []int
	// Bans makes the pass read each Bitcoin Core node's ban list and keep
	// it: with Side set a node bans the IPs of the members on other sides,
	// so that neither end reconnects (Core refuses inbound connections
	// from a banned address); bans of the network's own addresses that
	// Side does not ask for are lifted. btcd has no ban list.
	Bans bool
}

// defaultMaxActions is Options.MaxActions when unset: twice Core's cap on
// added peers.
const defaultMaxActions = 16

// phase bounds one phase of a pass by opts.PassTimeout plus extra.
func phase(ctx context.Context, opts Options, extra time.Duration) (context.Context, context.CancelFunc) {
	if opts.PassTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, opts.PassTimeout+extra)
}

// NodeReport is what one node told, and what was done to it.
type NodeReport struct {
	// Reachable is false when a call failed; Err says why.
	Reachable bool
	Err       error
	// Peers is the number of this network's nodes the node has a live
	// connection with, as the nodes report it (either end's added peers, or
	// its own outbound connections); peers from elsewhere (public peers on
	// signet or testnet, a peer a user added) do not count.
	Peers int
	// ExpectedPeers is the number of connections the plan gives the node.
	ExpectedPeers int
	BlockHeight   int64
	// Chain is what getblockchaininfo said.
	Chain bitcoin.ChainInfo
	// Network is the node's version, when Member.AskVersion.
	Network *bitcoin.NetworkInfo
	// Mempool is the number of transactions in its mempool.
	Mempool int64
	// Added and Removed are the peers added (or reconnected) and removed.
	Added, Removed []string
	// Closed are the ids of second connections to a peer that were closed.
	Closed []int64
	// Listed are the network's addresses (Options.NetworkAddresses) the
	// node lists as added peers after this pass's removals.
	Listed []string
	// Calls is the number of RPC calls made to the node.
	Calls int
	// Banned and Unbanned are the subnets banned and unbanned (Options.Bans).
	Banned, Unbanned []string
	// BansKept is true when, after this pass, the node's bans of network
	// addresses are what Options.Side asks for (always for btcd, which has
	// none); false when they were not read or a change failed.
	BansKept bool
}

// Report is the outcome of a repair pass, by ordinal.
type Report struct {
	Nodes map[int]*NodeReport
	// Record is the network's addresses to keep for the next pass: its
	// members', and every address of Options.NetworkAddresses a member
	// lists (as it answered now, or for a silent member as it last
	// answered; all of them while a member's list is not known at all),
	// at most MaxRecord beyond the members'. An address whose removal
	// failed is retried until it is gone: once the IP belongs to another
	// network's node, leaving it would join the two networks' chains.
	Record []string
	// PlannedEdges counts edges whose both ends are members; edges to
	// nodes that are missing or not ready are Waiting.
	PlannedEdges, ConnectedEdges, WaitingEdges int
}

// Repaired reports whether the pass changed anything.
func (r Report) Repaired() bool {
	for _, n := range r.Nodes {
		if len(n.Added) > 0 || len(n.Removed) > 0 || len(n.Banned) > 0 || len(n.Unbanned) > 0 {
			return true
		}
	}
	return false
}

// Repair runs one verify-and-repair pass: it observes every ready node,
// decides what to change (a pure function of the observations) and acts. A
// slow or dead node only marks its own report: every call has the client's
// deadline, and nodes are handled concurrently.
func Repair(ctx context.Context, members []Member, opts Options) (Report, error) {
	sizes := opts.Sizes
	if sizes == nil {
		sizes = []int{opts.Size}
	}
	total := 0
	for _, size := range sizes {
		total += size
	}
	edges, err := topology.PlanGroups(opts.Topology, sizes)
	if err != nil {
		return Report{}, err
	}
	report := Report{Nodes: map[int]*NodeReport{}}
	observations := map[int]Observation{}
	var mu sync.Mutex
	observeCtx, cancel := phase(ctx, opts, 0)
	defer cancel()
	forEachReady(members, opts.Concurrency, func(m Member) {
		r := &NodeReport{}
		octx := observeCtx
		if opts.Suspect[m.Ordinal] && opts.SuspectTimeout > 0 {
			var cancel context.CancelFunc
			octx, cancel = context.WithTimeout(observeCtx, opts.SuspectTimeout)
			defer cancel()
		}
		obs, err := observe(octx, m, opts.Bans && cmp.Or(m.Implementation, opts.Implementation) != bitcoin.Btcd, r)
		opts.release(m)
		mu.Lock()
		defer mu.Unlock()
		report.Nodes[m.Ordinal] = r
		if err != nil {
			r.Err = err
			return
		}
		r.Reachable = true
		r.BlockHeight, r.Chain, r.Network, r.Mempool = obs.BlockHeight, obs.Chain, obs.Network, obs.Mempool
		observations[m.Ordinal] = obs
	})

	if opts.Side != nil {
		edges = topology.Partition(edges, opts.Side, total)
	}
	plan := Decide(edges, members, observations, opts)
	neighbours := topology.Neighbours(edges, total)
	for ordinal, r := range report.Nodes {
		if ordinal < total {
			r.ExpectedPeers = len(neighbours[ordinal])
		}
		r.Peers = plan.NetworkPeers[ordinal]
	}
	report.PlannedEdges, report.ConnectedEdges, report.WaitingEdges = plan.PlannedEdges, plan.ConnectedEdges, plan.WaitingEdges

	actCtx, cancelAct := phase(ctx, opts, bitcoin.ConnectTimeout)
	defer cancelAct()
	maxActions := opts.MaxActions
	if maxActions <= 0 {
		maxActions = defaultMaxActions
	}
	// Bans change on every node before any peer is added: a heal's
	// connections would otherwise meet a ban the other end has yet to lift.
	if opts.Bans {
		forEachReady(members, opts.Concurrency, func(m Member) {
			mu.Lock()
			r := report.Nodes[m.Ordinal]
			acts := plan.Actions[m.Ordinal]
			mu.Unlock()
			if r.Reachable && (acts.KeepBans || len(acts.Ban)+len(acts.Unban) > 0) {
				banChanges(actCtx, m.Node, acts, r)
			}
		})
	}
	forEachReady(members, opts.Concurrency, func(m Member) {
		mu.Lock()
		r := report.Nodes[m.Ordinal]
		acts := plan.Actions[m.Ordinal]
		mu.Unlock()
		if r.Reachable {
			impl := cmp.Or(m.Implementation, opts.Implementation)
			act(actCtx, m.Node, acts.capped(maxActions), impl, r)
			if impl == bitcoin.Btcd && r.Reachable {
				r.BansKept = true
			}
			opts.release(m)
		}
	})
	network := newAddressSet(opts.NetworkAddresses)
	for ordinal, o := range observations {
		if nr := report.Nodes[ordinal]; nr.Reachable {
			nr.Listed = listed(o, nr, network)
		}
	}
	report.Record = record(members, report, opts)
	return report, nil
}

// MaxRecord bounds the addresses a record keeps beyond the members' own:
// a silent node and churning pods must not grow it (and the status that
// shows it) without end.
const MaxRecord = 256

// listed are the network's addresses a node lists after its removals.
func listed(o Observation, nr *NodeReport, network addressSet) []string {
	var out []string
	for _, a := range o.Added {
		if network.has(a.Address) && !slices.Contains(nr.Removed, a.Address) {
			out = append(out, a.Address)
		}
	}
	slices.Sort(out)
	return out
}

// record keeps the network's addresses that may still be listed on a node.
func record(members []Member, r Report, opts Options) []string {
	keep := map[string]bool{}
	unknown := false
	for _, m := range members {
		if m.P2PAddress != "" {
			keep[m.P2PAddress] = true
		}
	}
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b Member) int { return a.Ordinal - b.Ordinal })
	extra := 0
	add := func(a string) {
		if !keep[a] && extra < MaxRecord {
			keep[a] = true
			extra++
		}
	}
	for _, m := range members {
		nr := r.Nodes[m.Ordinal]
		known, ok := opts.Known[m.Ordinal]
		switch {
		case nr != nil && nr.Reachable:
			known = nr.Listed
		case !ok:
			unknown = true
		}
		for _, a := range known {
			add(a)
		}
	}
	if unknown {
		// A member whose list was never read may list any of them.
		for _, a := range opts.NetworkAddresses {
			add(a)
		}
	}
	return slices.Sorted(maps.Keys(keep))
}

// Observation is what one node reported.
type Observation struct {
	BlockHeight int64
	Chain       bitcoin.ChainInfo
	Network     *bitcoin.NetworkInfo
	Mempool     int64
	Added       []bitcoin.AddedNode
	// Outbound are the addresses of the connections the node opened.
	Outbound []string
	// Duplicates are the connections the node opened to an address it
	// already had one to (all but the lowest id): Core's added-peer loop
	// and an addnode onetry can both connect to a new peer at once.
	Duplicates []bitcoin.Peer
	// Banned are the node's bans (Options.Bans, Bitcoin Core only); nil
	// when not read.
	Banned []string
}

// observe asks a node for its chain, mempool, added peers and connections
// (and its ban list and version when asked), one call after another on one
// kept-alive connection. Not all at once: a connection per call would hold
// a connection's buffers and goroutines per call, tens of MiB at 1000
// nodes; nodes are called concurrently instead. The calls share the pass's
// deadline.
func observe(ctx context.Context, m Member, bans bool, r *NodeReport) (Observation, error) {
	node := m.Node
	var obs Observation
	var peers []bitcoin.Peer
	err := func() (err error) {
		r.Calls++
		if obs.Chain, err = node.ChainInfo(ctx); err != nil {
			return err
		}
		r.Calls++
		if obs.Added, err = node.AddedNodes(ctx); err != nil {
			return err
		}
		r.Calls++
		if peers, err = node.Peers(ctx); err != nil {
			return err
		}
		r.Calls++
		if obs.Mempool, err = node.MempoolSize(ctx); err != nil {
			return err
		}
		if bans {
			r.Calls++
			if obs.Banned, err = node.Banned(ctx); err != nil {
				return err
			}
			if obs.Banned == nil {
				obs.Banned = []string{}
			}
		}
		if m.AskVersion {
			r.Calls++
			info, err := node.NetworkInfo(ctx)
			if err != nil {
				return err
			}
			obs.Network = &info
		}
		return nil
	}()
	obs.BlockHeight = obs.Chain.Blocks
	obs.Outbound, obs.Duplicates = outbound(peers)
	return obs, err
}

// outbound returns the addresses of the outbound connections, and the
// connections to an address beyond the one of lowest id.
func outbound(peers []bitcoin.Peer) (addresses []string, duplicates []bitcoin.Peer) {
	first := map[string]int64{}
	for _, p := range peers {
		if p.Inbound {
			continue
		}
		addresses = append(addresses, p.Address)
		if id, ok := first[p.Address]; !ok || p.ID < id {
			first[p.Address] = p.ID
		}
	}
	for _, p := range peers {
		if !p.Inbound && first[p.Address] != p.ID {
			duplicates = append(duplicates, p)
		}
	}
	return addresses, duplicates
}

// Actions are the changes to make on one node.
type Actions struct {
	Add    []string
	Remove []string
	// Ban and Unban are subnets ("ip/32") to ban and to lift.
	Ban, Unban []string
	// KeepBans is set for a node whose bans were read: after Ban and Unban
	// its bans are what the plan asks for.
	KeepBans bool
	// Close are connection ids to close: second connections to a peer.
	// They are not capped: a node has at most one per open connection.
	Close []int64
}

// capped keeps at most max actions, removals first (they free Core's
// added-peer slots).
func (a Actions) capped(max int) Actions {
	if len(a.Remove) >= max {
		a.Remove, a.Add = a.Remove[:max], nil
		return a
	}
	if len(a.Remove)+len(a.Add) > max {
		a.Add = a.Add[:max-len(a.Remove)]
	}
	return a
}

// Decision is what Decide found and chose.
type Decision struct {
	Actions map[int]Actions
	// Planned and Connected count, per adding node, its planned edges to
	// ready nodes and those already up.
	Planned, Connected                         map[int]int
	PlannedEdges, ConnectedEdges, WaitingEdges int
	// NetworkPeers counts, per observed node, the members it is connected
	// with (see NodeReport.Peers).
	NetworkPeers map[int]int
}

// Decide compares the plan with what the nodes reported. An edge between
// two ready nodes is up when either end has the other added and connected
// (so a connection made in the opposite direction, e.g. before a plan
// change, counts: Bitcoin Core would not open a second one to the same
// address). A missing edge is added from its planned end. An added peer is
// removed only when it is one of this network's addresses and the plan has
// no edge between the two nodes in either direction.
func Decide(edges []topology.Edge, members []Member, obs map[int]Observation, opts Options) Decision {
	d := Decision{Actions: map[int]Actions{}, NetworkPeers: map[int]int{}}
	address := map[int]string{}
	ordinalOf := map[string]int{}
	for _, m := range members {
		if m.P2PAddress != "" {
			address[m.Ordinal] = m.P2PAddress
			ordinalOf[m.P2PAddress] = m.Ordinal
		}
	}
	// connected: node at has peer added and connected.
	connected := func(at, peer int) bool {
		for _, a := range obs[at].Added {
			if a.Address == address[peer] && a.Connected {
				return true
			}
		}
		return false
	}
	// A node's network peers are the members it shares a connection with,
	// as either end reports it: its connected added peers and outbound
	// connections, and theirs to it. Inbound connections show the peer's
	// source port, not its address, so they are seen from the other end
	// only. Counted from each node's own lists, not pair by pair: a pass
	// over 1000 nodes must not ask a million pairs.
	links := map[int]map[int]bool{}
	link := func(a, b int) {
		if a == b {
			return
		}
		for _, pair := range [2][2]int{{a, b}, {b, a}} {
			if links[pair[0]] == nil {
				links[pair[0]] = map[int]bool{}
			}
			links[pair[0]][pair[1]] = true
		}
	}
	for at, o := range obs {
		for _, a := range o.Added {
			if peer, ok := ordinalOf[a.Address]; ok && a.Connected {
				link(at, peer)
			}
		}
		for _, out := range o.Outbound {
			if peer, ok := ordinalOf[out]; ok {
				link(at, peer)
			}
		}
	}
	for at := range obs {
		if n := len(links[at]); n > 0 {
			d.NetworkPeers[at] = n
		}
	}
	paired := map[[2]int]bool{}
	for _, e := range edges {
		paired[[2]int{min(e.From, e.To), max(e.From, e.To)}] = true
		_, fromUp := obs[e.From]
		_, toUp := obs[e.To]
		if !fromUp || !toUp || address[e.To] == "" {
			d.WaitingEdges++
			continue
		}
		d.PlannedEdges++
		if connected(e.From, e.To) || connected(e.To, e.From) {
			d.ConnectedEdges++
			continue
		}
		a := d.Actions[e.From]
		a.Add = append(a.Add, address[e.To])
		d.Actions[e.From] = a
	}
	network := newAddressSet(opts.NetworkAddresses)
	across := func(a, b int) bool {
		return opts.Side != nil && a < len(opts.Side) && b < len(opts.Side) && opts.Side[a] != opts.Side[b]
	}
	for ordinal, o := range obs {
		var remove []string
		for _, added := range o.Added {
			if !network.has(added.Address) {
				continue
			}
			peer, member := ordinalOf[added.Address]
			if member && across(ordinal, peer) {
				remove = append(remove, added.Address)
				continue
			}
			if opts.Topology == topology.None || member && paired[[2]int{min(ordinal, peer), max(ordinal, peer)}] {
				continue
			}
			remove = append(remove, added.Address)
		}
		// A connection across sides that no one added (a onetry, or made
		// before the fault) closes too.
		for _, out := range o.Outbound {
			if peer, ok := ordinalOf[out]; ok && across(ordinal, peer) && !slices.Contains(remove, out) {
				remove = append(remove, out)
			}
		}
		var closing []int64
		for _, dup := range o.Duplicates {
			// Only the network's (a user's own peer is theirs to manage);
			// RemovePeer closes every connection of an address it removes.
			if network.has(dup.Address) && !slices.Contains(remove, dup.Address) {
				closing = append(closing, dup.ID)
			}
		}
		if len(remove)+len(closing) > 0 {
			a := d.Actions[ordinal]
			a.Remove, a.Close = remove, closing
			d.Actions[ordinal] = a
		}
	}
	if opts.Bans {
		decideBans(d, members, obs, network, opts.Side)
	}
	for o, a := range d.Actions {
		slices.Sort(a.Add)
		slices.Sort(a.Remove)
		d.Actions[o] = a
	}
	return d
}

// decideBans gives each node whose bans were read the bans Side asks for:
// the IPs of members on other sides. A ban of another of the network's
// addresses is lifted; bans of anything else are the user's and stay.
func decideBans(d Decision, members []Member, obs map[int]Observation, network addressSet, side []int) {
	hosts := map[string]bool{}
	for a := range network {
		hosts[subnetOf(a.Addr())] = true
	}
	for ordinal, o := range obs {
		if o.Banned == nil {
			continue
		}
		want := map[string]bool{}
		for _, m := range members {
			ap, ok := parseAddress(m.P2PAddress)
			if ok && side != nil && m.Ordinal < len(side) && ordinal < len(side) && side[m.Ordinal] != side[ordinal] {
				want[subnetOf(ap.Addr())] = true
			}
		}
		a := d.Actions[ordinal]
		a.KeepBans = true
		for _, b := range o.Banned {
			if hosts[b] && !want[b] {
				a.Unban = append(a.Unban, b)
			}
			delete(want, b)
		}
		for b := range want {
			a.Ban = append(a.Ban, b)
		}
		slices.Sort(a.Ban)
		slices.Sort(a.Unban)
		d.Actions[ordinal] = a
	}
}

// subnetOf writes an address as Bitcoin Core lists a ban of it.
func subnetOf(a netip.Addr) string {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()).String()
}

// act applies one node's actions: removals, then additions, then on
// bitcoind one immediate connection attempt per added peer. A failed
// removal or addition means the node stopped answering: the rest waits for
// the next pass. A connection attempt is different: Core dials the peer
// inside the call, for up to its connect timeout, so a dead peer makes the
// call slow or fail without saying anything about this node. The attempts
// run last and concurrently; whatever they answer, the peer stays added
// and Core's own loop keeps trying it.
func act(ctx context.Context, node bitcoin.Node, a Actions, impl bitcoin.Implementation, r *NodeReport) {
	for _, id := range a.Close {
		r.Calls++
		if err := node.CloseConnection(ctx, id); err != nil {
			r.Reachable, r.Err = false, err
			return
		}
		r.Closed = append(r.Closed, id)
	}
	for _, addr := range a.Remove {
		r.Calls++
		if err := node.RemovePeer(ctx, addr); err != nil {
			r.Reachable, r.Err = false, err
			return
		}
		r.Removed = append(r.Removed, addr)
	}
	for _, addr := range a.Add {
		r.Calls++
		if err := node.AddPeer(ctx, addr); err != nil {
			r.Reachable, r.Err = false, err
			return
		}
		r.Added = append(r.Added, addr)
	}
	// btcd connects on add; Core's added-node loop may wait a minute.
	if impl != bitcoin.Bitcoind {
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, addr := range r.Added {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Core answers null whether or not it connected: the next
			// pass sees (Progress.Next) whether it did.
			_ = node.ConnectOnce(ctx, addr)
			mu.Lock()
			defer mu.Unlock()
			r.Calls++
		}()
	}
	wg.Wait()
}

func (o Options) release(m Member) {
	if o.Release != nil {
		o.Release(m)
	}
}

// banChanges bans and unbans (a ban closes the connections to the
// address too). A failed call means the node stopped answering.
func banChanges(ctx context.Context, node bitcoin.Node, a Actions, r *NodeReport) {
	for _, b := range a.Ban {
		r.Calls++
		if err := node.Ban(ctx, b); err != nil {
			r.Reachable, r.Err = false, err
			return
		}
		r.Banned = append(r.Banned, b)
	}
	for _, b := range a.Unban {
		r.Calls++
		if err := node.Unban(ctx, b); err != nil {
			r.Reachable, r.Err = false, err
			return
		}
		r.Unbanned = append(r.Unbanned, b)
	}
	r.BansKept = a.KeepBans
}

// forEachReady runs f for every member with a client, at most concurrency
// at a time (and no more goroutines than that waiting: at 1000 nodes each
// would cost its stack).
func forEachReady(members []Member, concurrency int, f func(Member)) {
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for _, m := range members {
		if m.Node == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(m)
		}()
	}
	wg.Wait()
}

// addressSet holds P2P addresses by their parsed host and port, so that
// "127.0.0.2:18444" matches however it is written. A set, not a list: a
// pass asks it for every peer of every node (8000 lookups at 1000 nodes).
type addressSet map[netip.AddrPort]bool

func newAddressSet(addresses []string) addressSet {
	set := addressSet{}
	for _, a := range addresses {
		if ap, ok := parseAddress(a); ok {
			set[ap] = true
		}
	}
	return set
}

// has reports whether address is in the set; an address that is no
// ip:port never is.
func (s addressSet) has(address string) bool {
	ap, ok := parseAddress(address)
	return ok && s[ap]
}

// parseAddress parses "ip:port", with an IPv4-mapped IPv6 address taken
// as the IPv4 one (nodes report either).
func parseAddress(a string) (netip.AddrPort, bool) {
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
}
