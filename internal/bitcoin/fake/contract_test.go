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

package fake_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin/fake"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// The contract: one table of the RPC behaviours the operator relies on,
// run against the fake and against a real Bitcoin Core v29.3, so the fake
// cannot drift from Core. Each row names the behaviour it pins down.

// node is one bitcoind under test, fake or real.
type node struct {
	rpc, p2p       string
	user, password string
	// endWarmup ends a warm-up the node was started in.
	endWarmup func()
}

type nodeOptions struct {
	holdWarmup bool
	// slowMining gives the fake the pace of real Core's regtest mining
	// (tens of milliseconds per block).
	slowMining bool
	// serverTimeout is -rpcservertimeout; connectTimeout is -timeout.
	serverTimeout, connectTimeout time.Duration
}

// env starts the nodes of one row; they can reach each other.
type env interface {
	start(t *testing.T, opts nodeOptions) *node
	// ip is a fresh loopback IP, not used by any node.
	ip() string
}

var ipCounter atomic.Int32

func nextIP(subnet int) string {
	i := ipCounter.Add(1) + 1
	return fmt.Sprintf("127.%d.%d.%d", subnet, i/250, i%250+2)
}

// fakeEnv runs fake nodes on one fake network.
type fakeEnv struct{ network *fake.Network }

func (e *fakeEnv) ip() string { return nextIP(100) }

func (e *fakeEnv) start(t *testing.T, opts nodeOptions) *node {
	ip := e.ip()
	n := &node{rpc: ip + ":18443", p2p: ip + ":18444", user: "contract", password: "contract-password"}
	f := &fake.Node{
		P2PAddress: n.p2p, RPCAuth: rpcauth.Value(n.user, "0123456789abcdef", n.password), Chain: "regtest",
		ConnectTimeout: opts.connectTimeout, ServerTimeout: opts.serverTimeout,
	}
	if opts.slowMining {
		f.BlockTime = 2 * time.Millisecond
	}
	f.Start(e.network)
	f.SetWarmingUp(opts.holdWarmup)
	n.endWarmup = func() { f.SetWarmingUp(false) }
	ln, err := net.Listen("tcp", n.rpc)
	if err != nil {
		t.Fatal(err)
	}
	srv := f.Serve(ln)
	t.Cleanup(func() { _ = srv.Close(); f.Stop() })
	return n
}

// realEnv runs real bitcoind processes.
type realEnv struct{ dir string }

func (e *realEnv) ip() string { return nextIP(101) }

func (e *realEnv) start(t *testing.T, opts nodeOptions) *node {
	var conf []string
	if opts.serverTimeout > 0 {
		conf = append(conf, fmt.Sprintf("rpcservertimeout=%d", int(opts.serverTimeout.Seconds())))
	}
	if opts.connectTimeout > 0 {
		conf = append(conf, fmt.Sprintf("timeout=%d", opts.connectTimeout.Milliseconds()))
	}
	b := realnode.StartBitcoind(t, e.dir, realnode.BitcoindOptions{IP: e.ip(), Config: conf, HoldWarmup: opts.holdWarmup})
	n := &node{rpc: b.RPCAddress(), p2p: b.P2PAddress(), user: b.User, password: b.Password, endWarmup: func() {}}
	if b.Gate != nil {
		n.endWarmup = b.Gate.Release
	}
	if !opts.holdWarmup {
		waitWarm(t, n)
	}
	return n
}

// rpcReply is a raw JSON-RPC 1.0 reply.
type rpcReply struct {
	status int
	body   []byte
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// call makes one raw JSON-RPC call, on a new connection, with the node's
// credentials unless password is given.
func call(t *testing.T, n *node, method string, params ...any) rpcReply {
	t.Helper()
	return callAs(t, n, n.password, method, params...)
}

func callAs(t *testing.T, n *node, password, method string, params ...any) rpcReply {
	t.Helper()
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": "contract", "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.rpc+"/", bytes.NewReader(body))
	req.SetBasicAuth(n.user, password)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	r := rpcReply{status: resp.StatusCode}
	r.body, _ = io.ReadAll(resp.Body)
	if len(r.body) > 0 {
		if err := json.Unmarshal(r.body, &r); err != nil {
			t.Fatalf("%s: HTTP %d, body %q is not JSON: %v", method, r.status, r.body, err)
		}
	}
	return r
}

// expectOK checks a successful reply and decodes its result.
func expectOK(t *testing.T, r rpcReply, what string, result any) {
	t.Helper()
	if r.status != http.StatusOK || r.Error != nil {
		t.Fatalf("%s: HTTP %d %s, want 200 and no error", what, r.status, r.body)
	}
	if result != nil {
		if err := json.Unmarshal(r.Result, result); err != nil {
			t.Fatalf("%s: result %s: %v", what, r.Result, err)
		}
	}
}

// expectError checks an error reply's HTTP status and JSON-RPC code.
func expectError(t *testing.T, r rpcReply, what string, status, code int) {
	t.Helper()
	if r.status != status || r.Error == nil || r.Error.Code != code {
		t.Fatalf("%s: HTTP %d %s, want HTTP %d with error code %d", what, r.status, r.body, status, code)
	}
}

func waitWarm(t *testing.T, n *node) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := call(t, n, "getblockcount")
		if r.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node still warming up: HTTP %d %s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addedNode is one getaddednodeinfo entry, with Core's field types.
type addedNode struct {
	AddedNode string `json:"addednode"`
	Connected *bool  `json:"connected"`
	Addresses []struct {
		Address   string `json:"address"`
		Connected string `json:"connected"`
	} `json:"addresses"`
}

type peerInfo struct {
	ID             *int   `json:"id"`
	Addr           string `json:"addr"`
	Inbound        *bool  `json:"inbound"`
	ConnectionType string `json:"connection_type"`
}

func addedNodes(t *testing.T, n *node) []addedNode {
	t.Helper()
	var added []addedNode
	expectOK(t, call(t, n, "getaddednodeinfo"), "getaddednodeinfo", &added)
	for _, a := range added {
		if a.AddedNode == "" || a.Connected == nil || a.Addresses == nil {
			t.Fatalf("getaddednodeinfo entry %+v lacks addednode, connected or addresses", a)
		}
	}
	return added
}

func peers(t *testing.T, n *node) []peerInfo {
	t.Helper()
	var ps []peerInfo
	expectOK(t, call(t, n, "getpeerinfo"), "getpeerinfo", &ps)
	for _, p := range ps {
		if p.ID == nil || p.Addr == "" || p.Inbound == nil || p.ConnectionType == "" {
			t.Fatalf("getpeerinfo entry %+v lacks id, addr, inbound or connection_type", p)
		}
	}
	return ps
}

var contract = []struct {
	name string
	run  func(t *testing.T, e env)
}{
	{"generatetoaddress answers the new blocks' hashes; getblockchaininfo then reports the height, headers, best hash and IBD flag", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		var hashes []string
		expectOK(t, call(t, a, "generatetoaddress", 3, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"), "generatetoaddress", &hashes)
		if len(hashes) != 3 || len(hashes[2]) != 64 {
			t.Fatalf("generatetoaddress 3: %v", hashes)
		}
		var info struct {
			Blocks, Headers      int64
			BestBlockHash        string
			InitialBlockDownload *bool
		}
		expectOK(t, call(t, a, "getblockchaininfo"), "getblockchaininfo", &info)
		if info.Blocks != 3 || info.Headers != 3 || info.BestBlockHash != hashes[2] || info.InitialBlockDownload == nil {
			t.Errorf("getblockchaininfo after 3 blocks: %+v, want height 3, best %s, an IBD flag", info, hashes[2])
		}
	}},
	{"generatetoaddress goes on mining every block it was asked for after the client gives up", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{slowMining: true})
		c := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: a.rpc, User: a.user, Password: a.password}, bitcoin.Transport(nil), 5*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		_, err := c.Mine(ctx, 1000, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("generatetoaddress 1000 answered within 100 ms (%v): this row needs a call that outlives its client", err)
		}
		var left, height int64
		expectOK(t, call(t, a, "getblockcount"), "getblockcount", &left)
		deadline := time.Now().Add(60 * time.Second)
		for height < 1000 && time.Now().Before(deadline) {
			expectOK(t, call(t, a, "getblockcount"), "getblockcount", &height)
			time.Sleep(50 * time.Millisecond)
		}
		if left >= 1000 || height != 1000 {
			t.Fatalf("height %d when the client left, %d later; want all 1000 blocks mined after it left", left, height)
		}
		t.Logf("the client left at height %d; 1000 blocks after %s", left, time.Since(start).Round(time.Millisecond))
	}},
	{"getblockchaininfo reports the chain work; getblockheader confirms a block of the best chain and answers -5 for an unknown one", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		var hashes []string
		expectOK(t, call(t, a, "generatetoaddress", 2, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"), "generatetoaddress", &hashes)
		var info struct {
			ChainWork string `json:"chainwork"`
		}
		expectOK(t, call(t, a, "getblockchaininfo"), "getblockchaininfo", &info)
		// Regtest blocks have the minimum difficulty: work 2 each, the
		// genesis included.
		if info.ChainWork != fmt.Sprintf("%064x", 6) {
			t.Errorf("chainwork %q after 2 blocks, want %064x", info.ChainWork, 6)
		}
		var header struct {
			Confirmations int64 `json:"confirmations"`
			Height        int64 `json:"height"`
		}
		expectOK(t, call(t, a, "getblockheader", hashes[0], true), "getblockheader", &header)
		if header.Confirmations != 2 || header.Height != 1 {
			t.Errorf("getblockheader of block 1 of 2: %+v, want 2 confirmations at height 1", header)
		}
		expectError(t, call(t, a, "getblockheader", strings.Repeat("ab", 32), true), "getblockheader of an unknown block", http.StatusInternalServerError, -5)
		c := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: a.rpc, User: a.user, Password: a.password}, bitcoin.Transport(nil), 5*time.Second)
		if place, err := c.BlockPlace(context.Background(), hashes[1]); err != nil || place != bitcoin.BlockOnBestChain {
			t.Errorf("BlockPlace of the tip: %v, %v", place, err)
		}
		if place, err := c.BlockPlace(context.Background(), strings.Repeat("ab", 32)); err != nil || place != bitcoin.BlockUnknown {
			t.Errorf("BlockPlace of an unknown block: %v, %v", place, err)
		}
	}},
	{"disconnectnode by node id closes exactly that connection", func(t *testing.T, e env) {
		a, b := e.start(t, nodeOptions{}), e.start(t, nodeOptions{})
		expectOK(t, call(t, a, "addnode", b.p2p, "onetry"), "onetry", nil)
		ps := peers(t, a)
		if len(ps) != 1 {
			t.Fatalf("getpeerinfo after onetry: %+v", ps)
		}
		expectOK(t, call(t, a, "disconnectnode", "", *ps[0].ID), "disconnectnode by id", nil)
		deadline := time.Now().Add(5 * time.Second)
		for len(peers(t, a)) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("still connected after disconnectnode by id: %+v", peers(t, a))
			}
			time.Sleep(50 * time.Millisecond)
		}
		expectError(t, call(t, a, "disconnectnode", "", *ps[0].ID), "disconnectnode of an id not connected", http.StatusInternalServerError, -29)
	}},
	{"addnode add answers null, a duplicate -23; remove answers null, an unknown peer -24 (HTTP 500)", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		peer := e.ip() + ":18444"
		expectOK(t, call(t, a, "addnode", peer, "add"), "addnode add", nil)
		expectError(t, call(t, a, "addnode", peer, "add"), "duplicate addnode add", http.StatusInternalServerError, -23)
		if added := addedNodes(t, a); len(added) != 1 || added[0].AddedNode != peer {
			t.Fatalf("getaddednodeinfo = %+v, want just %s", added, peer)
		}
		expectOK(t, call(t, a, "addnode", peer, "remove"), "addnode remove", nil)
		expectError(t, call(t, a, "addnode", peer, "remove"), "addnode remove of a peer not added", http.StatusInternalServerError, -24)
		if added := addedNodes(t, a); len(added) != 0 {
			t.Fatalf("getaddednodeinfo after remove = %+v, want none", added)
		}
	}},
	{"addnode onetry connects before it answers null, outbound and without adding the peer", func(t *testing.T, e env) {
		a, b := e.start(t, nodeOptions{}), e.start(t, nodeOptions{})
		var result any
		expectOK(t, call(t, a, "addnode", b.p2p, "onetry"), "addnode onetry", &result)
		if result != nil {
			t.Fatalf("onetry answered %v, want null", result)
		}
		ps := peers(t, a)
		if len(ps) != 1 || ps[0].Addr != b.p2p || *ps[0].Inbound || ps[0].ConnectionType != "manual" {
			t.Fatalf("getpeerinfo right after onetry = %+v, want one outbound manual connection to %s", ps, b.p2p)
		}
		if added := addedNodes(t, a); len(added) != 0 {
			t.Fatalf("getaddednodeinfo after onetry = %+v, want none: onetry adds nothing", added)
		}
	}},
	{"disconnectnode closes the connection to an address; an address not connected gets -29", func(t *testing.T, e env) {
		a, b := e.start(t, nodeOptions{}), e.start(t, nodeOptions{})
		expectOK(t, call(t, a, "addnode", b.p2p, "onetry"), "onetry", nil)
		expectOK(t, call(t, a, "disconnectnode", b.p2p), "disconnectnode", nil)
		deadline := time.Now().Add(5 * time.Second)
		for len(peers(t, a)) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("still connected after disconnectnode: %+v", peers(t, a))
			}
			time.Sleep(50 * time.Millisecond)
		}
		expectError(t, call(t, a, "disconnectnode", b.p2p), "disconnectnode of an address not connected", http.StatusInternalServerError, -29)
	}},
	{"setban closes the connections with an address and refuses it inbound; listbanned lists ip/32; -23 banned twice, -30 lifting none", func(t *testing.T, e env) {
		a, b := e.start(t, nodeOptions{}), e.start(t, nodeOptions{})
		expectOK(t, call(t, b, "addnode", a.p2p, "onetry"), "onetry b to a", nil)
		before := peers(t, a)
		if len(before) != 1 || !*before[0].Inbound {
			t.Fatalf("a's peers before the ban: %+v, want b's inbound connection", before)
		}
		// The address a sees b's connection come from: b's pod IP on a
		// cluster; 127.0.0.1 for real nodes on loopback here, which do
		// not bind their outbound connections to their own IP.
		bIP, _, _ := net.SplitHostPort(before[0].Addr)
		expectOK(t, call(t, a, "setban", bIP+"/32", "add", 86400), "setban add", nil)
		deadline := time.Now().Add(5 * time.Second)
		for len(peers(t, a)) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("still connected after the ban: %+v", peers(t, a))
			}
			time.Sleep(50 * time.Millisecond)
		}
		var bans []struct {
			Address string `json:"address"`
		}
		expectOK(t, call(t, a, "listbanned"), "listbanned", &bans)
		if len(bans) != 1 || bans[0].Address != bIP+"/32" {
			t.Fatalf("listbanned = %+v, want %s/32", bans, bIP)
		}
		expectError(t, call(t, a, "setban", bIP+"/32", "add", 86400), "setban of a banned address", http.StatusInternalServerError, -23)
		// b's onetry answers null, but a refuses the banned address.
		expectOK(t, call(t, b, "addnode", a.p2p, "onetry"), "onetry from the banned address", nil)
		time.Sleep(500 * time.Millisecond)
		if ps := peers(t, a); len(ps) != 0 {
			t.Fatalf("a accepted a connection from its banned address: %+v", ps)
		}
		expectOK(t, call(t, a, "setban", bIP+"/32", "remove"), "setban remove", nil)
		expectError(t, call(t, a, "setban", bIP+"/32", "remove"), "setban remove of an address not banned", http.StatusInternalServerError, -30)
		expectOK(t, call(t, b, "addnode", a.p2p, "onetry"), "onetry after the ban is lifted", nil)
		deadline = time.Now().Add(5 * time.Second)
		for len(peers(t, a)) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("a's peers after the ban is lifted: %+v, want b's connection", peers(t, a))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}},
	{"addnode onetry to a closed port answers null at once", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		start := time.Now()
		expectOK(t, call(t, a, "addnode", e.ip()+":18444", "onetry"), "addnode onetry to a closed port", nil)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("onetry to a refused port took %s", d)
		}
	}},
	{"addnode onetry to an address that never answers blocks for the whole connect timeout, then answers null", func(t *testing.T, e env) {
		const connectTimeout = 2 * time.Second
		a := e.start(t, nodeOptions{connectTimeout: connectTimeout})
		dead := realnode.Blackhole(t, e.ip())
		start := time.Now()
		expectOK(t, call(t, a, "addnode", dead, "onetry"), "addnode onetry to a dead address", nil)
		if d := time.Since(start); d < connectTimeout*8/10 {
			t.Fatalf("onetry to an unanswering address returned after %s, want it to wait about the connect timeout (%s)", d, connectTimeout)
		}
		if ps := peers(t, a); len(ps) != 0 {
			t.Fatalf("getpeerinfo = %+v, want no connection", ps)
		}
	}},
	{"an added peer is connected only by an outbound connection; an inbound one from it does not count", func(t *testing.T, e env) {
		a, b := e.start(t, nodeOptions{}), e.start(t, nodeOptions{})
		expectOK(t, call(t, b, "addnode", a.p2p, "onetry"), "b onetry a", nil)
		expectOK(t, call(t, a, "addnode", b.p2p, "add"), "a add b", nil)
		// Whenever a reports b connected, it has its own connection to b.
		for i := 0; i < 3; i++ {
			added := addedNodes(t, a)
			outbound := false
			for _, p := range peers(t, a) {
				outbound = outbound || (!*p.Inbound && p.Addr == b.p2p)
			}
			if len(added) != 1 || *added[0].Connected != outbound {
				t.Fatalf("a's getaddednodeinfo %+v, outbound connection to b: %v; connected must mean outbound", added, outbound)
			}
		}
		expectOK(t, call(t, a, "addnode", b.p2p, "onetry"), "a onetry b", nil)
		added := addedNodes(t, a)
		if len(added) != 1 || !*added[0].Connected || len(added[0].Addresses) != 1 ||
			added[0].Addresses[0].Address != b.p2p || added[0].Addresses[0].Connected != "outbound" {
			t.Fatalf("a's getaddednodeinfo after onetry = %+v, want b connected outbound", added)
		}
		// An inbound peer shows its source address: a pod IP on a cluster,
		// but 127.0.0.1 for processes sharing the host's loopback here.
		var in, out int
		for _, p := range peers(t, a) {
			switch {
			case *p.Inbound && p.ConnectionType == "inbound":
				in++
			case p.Addr == b.p2p && !*p.Inbound:
				out++
			}
		}
		if in != 1 || out != 1 {
			t.Fatalf("a has %d inbound and %d outbound connections with b, want one of each: the inbound one did not stop the outbound one", in, out)
		}
	}},
	{"getblockchaininfo and getnetworkinfo have the fields the operator reads", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		var chain struct {
			Chain         string `json:"chain"`
			Blocks        *int64 `json:"blocks"`
			Headers       *int64 `json:"headers"`
			BestBlockHash string `json:"bestblockhash"`
			IBD           *bool  `json:"initialblockdownload"`
		}
		expectOK(t, call(t, a, "getblockchaininfo"), "getblockchaininfo", &chain)
		if chain.Chain != "regtest" || chain.Blocks == nil || chain.Headers == nil || len(chain.BestBlockHash) != 64 || chain.IBD == nil {
			t.Fatalf("getblockchaininfo = %+v, want chain regtest, blocks, headers, a 64-digit bestblockhash and initialblockdownload", chain)
		}
		var network struct {
			Version     *int   `json:"version"`
			Subversion  string `json:"subversion"`
			Connections *int   `json:"connections"`
		}
		expectOK(t, call(t, a, "getnetworkinfo"), "getnetworkinfo", &network)
		if network.Version == nil || !strings.HasPrefix(network.Subversion, "/Satoshi:") || network.Connections == nil {
			t.Fatalf("getnetworkinfo = %+v, want version, a /Satoshi:…/ subversion and connections", network)
		}
		var count int64
		expectOK(t, call(t, a, "getblockcount"), "getblockcount", &count)
		if count != *chain.Blocks {
			t.Fatalf("getblockcount %d, getblockchaininfo blocks %d", count, *chain.Blocks)
		}
	}},
	{"wrong credentials get HTTP 401 with an empty body", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		r := callAs(t, a, "wrong-password", "getblockcount")
		if r.status != http.StatusUnauthorized || len(r.body) != 0 {
			t.Fatalf("wrong password: HTTP %d body %q, want 401 and no body", r.status, r.body)
		}
		c := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: a.rpc, User: a.user, Password: "wrong"}, bitcoin.Transport(nil), 5*time.Second)
		if _, err := c.BlockCount(context.Background()); !errors.Is(err, bitcoin.ErrUnauthorized) {
			t.Fatalf("client error %v, want ErrUnauthorized", err)
		}
	}},
	{"an unknown method gets -32601 with HTTP 404", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{})
		expectError(t, call(t, a, "nosuchmethod"), "unknown method", http.StatusNotFound, -32601)
	}},
	{"every call answers -28 (HTTP 500) while the node warms up, and works after", func(t *testing.T, e env) {
		a := e.start(t, nodeOptions{holdWarmup: true})
		for _, m := range []string{"getblockchaininfo", "getaddednodeinfo", "getpeerinfo", "getblockcount"} {
			expectError(t, call(t, a, m), m+" while warming up", http.StatusInternalServerError, -28)
		}
		c := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: a.rpc, User: a.user, Password: a.password}, bitcoin.Transport(nil), 5*time.Second)
		if _, err := c.AddedNodes(context.Background()); !bitcoin.IsWarmingUp(err) {
			t.Fatalf("client error %v, want a warm-up error", err)
		}
		a.endWarmup()
		waitWarm(t, a)
	}},
	{"a node still warming up takes no peer connections: onetry to it connects nothing", func(t *testing.T, e env) {
		a, held := e.start(t, nodeOptions{}), e.start(t, nodeOptions{holdWarmup: true})
		expectOK(t, call(t, a, "addnode", held.p2p, "onetry"), "onetry to a warming-up node", nil)
		if ps := peers(t, a); len(ps) != 0 {
			t.Fatalf("getpeerinfo = %+v: a node warming up accepted a connection", ps)
		}
		held.endWarmup()
		waitWarm(t, held)
		expectOK(t, call(t, a, "addnode", held.p2p, "onetry"), "onetry once warm", nil)
		if ps := peers(t, a); len(ps) != 1 || ps[0].Addr != held.p2p {
			t.Fatalf("getpeerinfo once warm = %+v, want the connection", ps)
		}
	}},
	{"the server closes an idle RPC connection after rpcservertimeout", func(t *testing.T, e env) {
		const serverTimeout = 2 * time.Second
		a := e.start(t, nodeOptions{serverTimeout: serverTimeout})
		conn, err := net.Dial("tcp", a.rpc)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.rpc+"/", strings.NewReader(body))
		req.SetBasicAuth(a.user, a.password)
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("HTTP %d, close %v: want a kept-alive 200", resp.StatusCode, resp.Close)
		}
		idle := time.Now()
		_ = conn.SetReadDeadline(time.Now().Add(4 * serverTimeout))
		_, err = br.ReadByte()
		if err == nil || errors.Is(err, syscall.ETIMEDOUT) || isTimeout(err) {
			t.Fatalf("idle connection after %s: %v, want the server to close it", time.Since(idle), err)
		}
		if d := time.Since(idle); d < serverTimeout*8/10 {
			t.Fatalf("the server closed the idle connection after %s, before rpcservertimeout (%s)", d, serverTimeout)
		}
	}},
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestContractOnTheFake(t *testing.T) {
	for _, row := range contract {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			row.run(t, &fakeEnv{network: fake.NewNetwork()})
		})
	}
}

func TestContractOnRealBitcoind(t *testing.T) {
	dir := realnode.RequireBitcoind(t)
	for _, row := range contract {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			row.run(t, &realEnv{dir: dir})
		})
	}
}
