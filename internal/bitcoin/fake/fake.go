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

// Package fake is a fake Bitcoin Core (bitcoind) JSON-RPC server for unit
// tests. It behaves like Core v29 where the operator depends on it, and
// the contract test beside it runs one table of behaviours against both
// this fake and a real bitcoind: basic auth against an rpcauth value (401
// with an empty body), error codes (-23 already added, -24 not added, -28
// while warming up, -29 not connected, -32601 unknown method) with Core's HTTP statuses, the
// getaddednodeinfo, getpeerinfo and getblockchaininfo shapes, added nodes
// connected by a background pass capped at 8 (MAX_ADDNODE_CONNECTIONS),
// onetry connecting synchronously (up to the connect timeout), an added
// peer counted as connected only through an outbound connection (an
// inbound one from the same node does not count, as Core tells peers
// apart by their source port), idle RPC connections closed after the
// server timeout, and addnode lists lost on restart.
//
// Fake nodes "connect" to each other through a shared Network keyed by
// P2P address; no P2P traffic is sent. onetry to an address where no fake
// node runs dials it over TCP, as Core would, and hangs up.
package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
)

// MaxAddnodeConnections is Core's cap on connections to added nodes.
const MaxAddnodeConnections = 8

// Network is the set of fake nodes that can reach each other.
type Network struct {
	mu    sync.Mutex
	nodes map[string]*Node // by P2P address
}

// NewNetwork returns an empty network.
func NewNetwork() *Network { return &Network{nodes: map[string]*Node{}} }

// Node is one fake bitcoind. Its exported fields are set before Start.
type Node struct {
	// P2PAddress is the node's "ip:port" peers connect to.
	P2PAddress string
	// RPCAuth is the node's rpcauth value ("user:salt$hmac").
	RPCAuth string
	// Chain is reported by getblockchaininfo.
	Chain string
	// LoadingFor is how long RPC answers -28 after Start.
	LoadingFor time.Duration
	// RetryInterval is how soon the added-node loop looks again after a
	// pass that tried no connection (Core: 2 s); AttemptInterval how long it
	// waits after a pass that tried one (Core: 60 s). 0 means Core's value.
	RetryInterval, AttemptInterval time.Duration
	// ConnectTimeout bounds onetry's TCP connect to an address where no
	// fake node runs (Core's -timeout, default 5 s).
	ConnectTimeout time.Duration
	// ServerTimeout is how long an idle RPC connection stays open (Core's
	// -rpcservertimeout, default 30 s); see Serve.
	ServerTimeout time.Duration
	// Branch makes the node's blocks its own: nodes of different branches
	// have different blocks at every height (a fork from the genesis).
	Branch string
	// BlockTime is how long generatetoaddress takes per block; like Core,
	// the call mines every block it was asked for even when the client
	// gives up waiting.
	BlockTime time.Duration

	network *Network
	mu      sync.Mutex
	running bool
	loaded  time.Time
	held    bool
	added   []string
	// outbound are the ids of this node's connections to each P2P
	// address (usually one), inbound the id of each node's connection in.
	outbound map[string][]int64
	inbound  map[string]int64
	nextID   int64
	blocks   int64
	stop     chan struct{}
	calls    map[string]int
	// banned are the subnets setban added ("ip/32"); like Core, a node
	// refuses inbound connections from them and, on a ban, closes the
	// connections it has with them. Kept across restarts (banlist.json).
	banned []string
}

// Start makes the node reachable on the network and starts its added-node
// connection loop. Like Core, a restarted node has no added nodes.
func (n *Node) Start(network *Network) {
	n.mu.Lock()
	n.network, n.running, n.loaded = network, true, time.Now().Add(n.LoadingFor)
	n.added, n.outbound, n.inbound = nil, map[string][]int64{}, map[string]int64{}
	if n.calls == nil {
		n.calls = map[string]int{}
	}
	n.stop = make(chan struct{})
	idle, attempted := n.RetryInterval, n.AttemptInterval
	if idle <= 0 {
		idle = 2 * time.Second
	}
	if attempted <= 0 {
		attempted = 60 * time.Second
	}
	stop := n.stop
	n.mu.Unlock()
	network.mu.Lock()
	network.nodes[n.P2PAddress] = n
	network.mu.Unlock()
	go func() {
		wait := idle
		for {
			select {
			case <-stop:
				return
			case <-time.After(wait):
				wait = idle
				if n.ConnectAddedNodes() {
					wait = attempted
				}
			}
		}
	}()
}

// Stop takes the node off the network, dropping every connection.
func (n *Node) Stop() {
	n.mu.Lock()
	if !n.running {
		n.mu.Unlock()
		return
	}
	n.running = false
	close(n.stop)
	peers := append(slices.Collect(maps.Keys(n.outbound)), slices.Collect(maps.Keys(n.inbound))...)
	n.outbound, n.inbound = map[string][]int64{}, map[string]int64{}
	network := n.network
	n.mu.Unlock()
	network.mu.Lock()
	delete(network.nodes, n.P2PAddress)
	network.mu.Unlock()
	for _, p := range peers {
		if peer := network.node(p); peer != nil {
			peer.mu.Lock()
			delete(peer.outbound, n.P2PAddress)
			delete(peer.inbound, n.P2PAddress)
			peer.mu.Unlock()
		}
	}
}

// SetWarmingUp holds the node in its warm-up (every call answers -28) or
// ends it, like a real bitcoind still loading its chain.
func (n *Node) SetWarmingUp(held bool) {
	n.mu.Lock()
	n.held = held
	n.mu.Unlock()
}

// WarmingUp reports whether the node answers -28 to every call.
func (n *Node) WarmingUp() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.held || time.Now().Before(n.loaded)
}

// Serve answers RPC on ln until the returned server is closed, closing
// idle connections after ServerTimeout as Core's HTTP server does.
func (n *Node) Serve(ln net.Listener) *http.Server {
	timeout := n.ServerTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	srv := &http.Server{Handler: n, ReadHeaderTimeout: timeout, IdleTimeout: timeout}
	go func() { _ = srv.Serve(ln) }()
	return srv
}

// Calls returns how many times each RPC method was called.
func (n *Node) Calls() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]int{}
	for k, v := range n.calls {
		out[k] = v
	}
	return out
}

func (nw *Network) node(address string) *Node {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.nodes[address]
}

// connect opens a connection from n to address if a running node is there
// and listens: Core listens for peers only once its warm-up is over. Only an
// outbound connection counts as already connected: Core tells an inbound
// peer by its source port, so it opens its own connection to a node that
// connected in.
func (n *Node) connect(address string) bool {
	if address == n.P2PAddress {
		return false
	}
	peer := n.network.node(address)
	if peer == nil || peer.WarmingUp() || peer.bans(n.P2PAddress) {
		return false
	}
	n.mu.Lock()
	already := len(n.outbound[address]) > 0
	if !already {
		n.outbound[address] = []int64{n.newID()}
	}
	n.mu.Unlock()
	if already {
		return true
	}
	peer.mu.Lock()
	peer.inbound[n.P2PAddress] = peer.newID()
	peer.mu.Unlock()
	return true
}

// newID numbers a new connection, as Core numbers its peers; n.mu is held.
func (n *Node) newID() int64 {
	n.nextID++
	return n.nextID
}

// OpenSecondConnection opens one more outbound connection to a node the
// node is connected to, under the same address, as Core's own connection
// logic may open one next to an added peer's.
func (n *Node) OpenSecondConnection(address string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.outbound[address]) == 0 {
		return false
	}
	n.outbound[address] = append(n.outbound[address], n.newID())
	return true
}

// Connections counts the node's outbound connections to address.
func (n *Node) Connections(address string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.outbound[address])
}

// ConnectAddedNodes is one pass of Core's ThreadOpenAddedConnections: it
// connects added nodes in order while fewer than 8 of them are connected,
// and reports whether it tried any. A node still warming up has no
// connection manager yet.
func (n *Node) ConnectAddedNodes() (tried bool) {
	n.mu.Lock()
	if !n.running || n.held || time.Now().Before(n.loaded) {
		n.mu.Unlock()
		return false
	}
	added := slices.Clone(n.added)
	connected := 0
	for _, a := range added {
		if len(n.outbound[a]) > 0 {
			connected++
		}
	}
	n.mu.Unlock()
	for _, a := range added {
		if connected >= MaxAddnodeConnections {
			return tried
		}
		n.mu.Lock()
		has := len(n.outbound[a]) > 0
		n.mu.Unlock()
		if has {
			continue
		}
		tried = true
		if n.connect(a) {
			connected++
		}
	}
	return tried
}

type rpcRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params []any           `json:"params"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ServeHTTP answers JSON-RPC 1.0 requests like bitcoind's HTTP server.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok || !rpcauth.Matches(n.RPCAuth, user, password) {
		// Core answers a wrong password after 250 ms, to slow guessing.
		time.Sleep(250 * time.Millisecond)
		w.Header().Set("WWW-Authenticate", `Basic realm="jsonrpc"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var req rpcRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeResponse(w, nil, nil, &rpcError{Code: -32700, Message: "Parse error"})
		return
	}
	n.mu.Lock()
	n.calls[req.Method]++
	running, loading := n.running, n.held || time.Now().Before(n.loaded)
	n.mu.Unlock()
	if !running {
		http.Error(w, "node stopped", http.StatusServiceUnavailable)
		return
	}
	if loading {
		writeResponse(w, req.ID, nil, &rpcError{Code: -28, Message: "Loading block index…"})
		return
	}
	result, rerr := n.handle(req)
	writeResponse(w, req.ID, result, rerr)
}

func writeResponse(w http.ResponseWriter, id json.RawMessage, result any, rerr *rpcError) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case rerr == nil:
		w.WriteHeader(http.StatusOK)
	case rerr.Code == -32601:
		w.WriteHeader(http.StatusNotFound)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"result": result, "error": rerr, "id": id})
}

func (n *Node) handle(req rpcRequest) (any, *rpcError) {
	switch req.Method {
	case "addnode":
		if len(req.Params) != 2 {
			return nil, &rpcError{Code: -1, Message: "addnode \"node\" \"command\""}
		}
		addr, _ := req.Params[0].(string)
		cmd, _ := req.Params[1].(string)
		return nil, n.addnode(addr, cmd)
	case "disconnectnode":
		// disconnectnode "address" or disconnectnode "" nodeid.
		addr, _ := firstString(req.Params)
		if addr == "" && len(req.Params) == 2 {
			if id, ok := req.Params[1].(float64); ok {
				return nil, n.disconnectID(int64(id))
			}
		}
		return nil, n.disconnect(addr)
	case "getaddednodeinfo":
		return n.addedNodeInfo(), nil
	case "getpeerinfo":
		return n.peerInfo(), nil
	case "getconnectioncount":
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.connectionCount(), nil
	case "getnetworkinfo":
		n.mu.Lock()
		defer n.mu.Unlock()
		return map[string]any{
			"version": 290300, "subversion": "/Satoshi:29.3.0/",
			"connections":    n.connectionCount(),
			"connections_in": len(n.inbound), "connections_out": n.connectionCount() - len(n.inbound),
		}, nil
	case "getblockchaininfo":
		n.mu.Lock()
		defer n.mu.Unlock()
		return map[string]any{"chain": n.Chain, "blocks": n.blocks, "headers": n.blocks,
			"bestblockhash": n.blockHash(n.blocks), "chainwork": fmt.Sprintf("%064x", 2*(n.blocks+1)),
			"initialblockdownload": false, "warnings": []string{}}, nil
	case "getblockheader":
		hash, _ := firstString(req.Params)
		n.mu.Lock()
		defer n.mu.Unlock()
		for h := n.blocks; h >= 0; h-- {
			if n.blockHash(h) == hash {
				return map[string]any{"hash": hash, "height": h, "confirmations": n.blocks - h + 1}, nil
			}
		}
		return nil, &rpcError{Code: -5, Message: "Block not found"}
	case "generatetoaddress":
		// Blocks only: the fake keeps no transactions, and it does not
		// relay blocks to its peers.
		var count float64
		ok := len(req.Params) == 2
		if ok {
			count, ok = req.Params[0].(float64)
		}
		if !ok || count < 1 || count > 1000 || count != float64(int64(count)) {
			return nil, &rpcError{Code: -1, Message: "generatetoaddress nblocks \"address\""}
		}
		var hashes []string
		for range int64(count) {
			time.Sleep(n.BlockTime)
			n.mu.Lock()
			n.blocks++
			hashes = append(hashes, n.blockHash(n.blocks))
			n.mu.Unlock()
		}
		return hashes, nil
	case "setban":
		subnet, _ := firstString(req.Params)
		var cmd string
		if len(req.Params) >= 2 {
			cmd, _ = req.Params[1].(string)
		}
		return nil, n.setban(subnet, cmd)
	case "listbanned":
		n.mu.Lock()
		defer n.mu.Unlock()
		out := []map[string]any{}
		for _, b := range n.banned {
			out = append(out, map[string]any{"address": b})
		}
		return out, nil
	case "getmempoolinfo":
		// The fake keeps no transactions.
		return map[string]any{"loaded": true, "size": 0, "bytes": 0}, nil
	case "getblockcount":
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.blocks, nil
	case "getbestblockhash":
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.blockHash(n.blocks), nil
	default:
		return nil, &rpcError{Code: -32601, Message: "Method not found"}
	}
}

func (n *Node) addnode(addr, cmd string) *rpcError {
	switch cmd {
	case "add":
		n.mu.Lock()
		if slices.Contains(n.added, addr) {
			n.mu.Unlock()
			return &rpcError{Code: -23, Message: "Error: Node already added"}
		}
		n.added = append(n.added, addr)
		n.mu.Unlock()
		return nil
	case "remove":
		n.mu.Lock()
		defer n.mu.Unlock()
		i := slices.Index(n.added, addr)
		if i < 0 {
			return &rpcError{Code: -24, Message: "Error: Node could not be removed. It has not been added previously."}
		}
		// Core forgets the address but keeps the live connection.
		n.added = slices.Delete(n.added, i, i+1)
		return nil
	case "onetry":
		// Core's onetry opens a manual connection outside the addnode cap,
		// synchronously, and answers null whatever happened.
		if n.network.node(addr) != nil {
			n.connect(addr)
			return nil
		}
		timeout := n.ConnectTimeout
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		if conn, err := net.DialTimeout("tcp", addr, timeout); err == nil {
			_ = conn.Close()
		}
		return nil
	default:
		return &rpcError{Code: -1, Message: "addnode \"node\" \"command\": command must be add, remove or onetry"}
	}
}

func firstString(params []any) (string, bool) {
	if len(params) == 0 {
		return "", false
	}
	s, ok := params[0].(string)
	return s, ok
}

// disconnect closes the first outbound connection to addr, as Core's
// disconnectnode finds the first node connected under that name.
func (n *Node) disconnect(addr string) *rpcError {
	n.mu.Lock()
	ids := n.outbound[addr]
	n.mu.Unlock()
	if len(ids) == 0 {
		return &rpcError{Code: -29, Message: "Node not found in connected nodes"}
	}
	return n.disconnectID(ids[0])
}

// bans reports whether the node has banned the IP of a P2P address.
func (n *Node) bans(address string) bool {
	host, _, _ := net.SplitHostPort(address)
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Contains(n.banned, host+"/32")
}

// setban adds or removes a ban of one IPv4 address (what the operator
// bans), with Core's codes: -23 already banned, -30 not banned.
func (n *Node) setban(ip, cmd string) *rpcError {
	subnet := strings.TrimSuffix(ip, "/32") + "/32"
	n.mu.Lock()
	i := slices.Index(n.banned, subnet)
	switch {
	case cmd == "add" && i >= 0:
		n.mu.Unlock()
		return &rpcError{Code: -23, Message: "Error: IP/Subnet already banned"}
	case cmd == "add":
		n.banned = append(n.banned, subnet)
	case cmd == "remove" && i < 0:
		n.mu.Unlock()
		return &rpcError{Code: -30, Message: "Error: Unban failed. Requested address/subnet was not previously manually banned."}
	case cmd == "remove":
		n.banned = slices.Delete(n.banned, i, i+1)
		n.mu.Unlock()
		return nil
	default:
		n.mu.Unlock()
		return &rpcError{Code: -1, Message: "setban \"subnet\" \"command\""}
	}
	// A ban closes every connection with the address, both ways.
	var ids []int64
	for a, out := range n.outbound {
		if host, _, _ := net.SplitHostPort(a); host+"/32" == subnet {
			ids = append(ids, out...)
		}
	}
	for a, in := range n.inbound {
		if host, _, _ := net.SplitHostPort(a); host+"/32" == subnet {
			ids = append(ids, in)
		}
	}
	n.mu.Unlock()
	for _, id := range ids {
		n.disconnectID(id)
	}
	return nil
}

// disconnectID closes the connection with this id.
func (n *Node) disconnectID(id int64) *rpcError {
	n.mu.Lock()
	var peerAddr string
	last := false
	for a, ids := range n.outbound {
		if i := slices.Index(ids, id); i >= 0 {
			peerAddr, n.outbound[a] = a, slices.Delete(ids, i, i+1)
			if last = len(n.outbound[a]) == 0; last {
				delete(n.outbound, a)
			}
		}
	}
	inbound := false
	for a, in := range n.inbound {
		if in == id {
			peerAddr, inbound = a, true
			delete(n.inbound, a)
		}
	}
	n.mu.Unlock()
	if peerAddr == "" {
		return &rpcError{Code: -29, Message: "Node not found in connected nodes"}
	}
	if peer := n.network.node(peerAddr); peer != nil && (last || inbound) {
		peer.mu.Lock()
		if inbound {
			// The peer's end of the connection closes with it.
			delete(peer.outbound, n.P2PAddress)
		} else {
			delete(peer.inbound, n.P2PAddress)
		}
		peer.mu.Unlock()
	}
	return nil
}

// connectionCount counts every connection; n.mu is held.
func (n *Node) connectionCount() int {
	c := len(n.inbound)
	for _, ids := range n.outbound {
		c += len(ids)
	}
	return c
}

func (n *Node) addedNodeInfo() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := []map[string]any{}
	for _, a := range n.added {
		connected := len(n.outbound[a]) > 0
		addrs := []map[string]any{}
		if connected {
			addrs = append(addrs, map[string]any{"address": a, "connected": "outbound"})
		}
		out = append(out, map[string]any{"addednode": a, "connected": connected, "addresses": addrs})
	}
	return out
}

func (n *Node) peerInfo() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := []map[string]any{}
	for _, a := range slices.Sorted(maps.Keys(n.outbound)) {
		for _, id := range n.outbound[a] {
			out = append(out, map[string]any{"id": id, "addr": a, "inbound": false, "connection_type": "manual"})
		}
	}
	for _, a := range slices.Sorted(maps.Keys(n.inbound)) {
		out = append(out, map[string]any{"id": n.inbound[a], "addr": a, "inbound": true, "connection_type": "inbound"})
	}
	return out
}

// Mine advances the fake chain by count blocks.
func (n *Node) Mine(count int64) {
	n.mu.Lock()
	n.blocks += count
	n.mu.Unlock()
}

// blockHash names the block at height on the node's branch.
func (n *Node) blockHash(height int64) string {
	if n.Branch == "" || height == 0 {
		return fmt.Sprintf("%064x", height+1)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", n.Branch, height)))
	return hex.EncodeToString(sum[:])
}

// Height is the node's block count.
func (n *Node) Height() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.blocks
}

// Network returns the network the node was started on.
func (n *Node) Network() *Network {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.network
}
