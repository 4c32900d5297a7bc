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

package bitcoin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin/fake"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
)

// startFake runs a fake bitcoind over HTTP and returns a client for it.
func startFake(t *testing.T, network *fake.Network, p2p string, loading time.Duration) (*fake.Node, bitcoin.Node) {
	t.Helper()
	node := &fake.Node{
		P2PAddress: p2p, RPCAuth: rpcauth.Value("bitcoin", "00ff", "secret"), Chain: "regtest",
		LoadingFor: loading, RetryInterval: time.Hour,
	}
	node.Start(network)
	srv := httptest.NewServer(node)
	t.Cleanup(func() { srv.Close(); node.Stop() })
	addr := strings.TrimPrefix(srv.URL, "http://")
	client := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: addr, User: "bitcoin", Password: "secret"},
		bitcoin.Transport(nil), 2*time.Second)
	return node, client
}

func TestAddAndRemoveAreIdempotentOnBitcoind(t *testing.T) {
	ctx := context.Background()
	network := fake.NewNetwork()
	_, a := startFake(t, network, "127.0.0.2:18444", 0)
	startFake(t, network, "127.0.0.3:18444", 0)

	for i := 0; i < 2; i++ {
		if err := a.AddPeer(ctx, "127.0.0.3:18444"); err != nil {
			t.Fatalf("add #%d: %v (an already-added peer must not be an error)", i+1, err)
		}
	}
	added, err := a.AddedNodes(ctx)
	if err != nil || len(added) != 1 || added[0].Address != "127.0.0.3:18444" || added[0].Connected {
		t.Fatalf("added nodes %+v %v: want the peer, not yet connected (Core connects in its own loop)", added, err)
	}
	if err := a.ConnectOnce(ctx, "127.0.0.3:18444"); err != nil {
		t.Fatal(err)
	}
	added, _ = a.AddedNodes(ctx)
	peers, _ := a.Peers(ctx)
	if !added[0].Connected || len(peers) != 1 || peers[0].Inbound {
		t.Fatalf("after onetry: added %+v peers %+v, want one outbound connection", added, peers)
	}
	for i := 0; i < 2; i++ {
		if err := a.RemovePeer(ctx, "127.0.0.3:18444"); err != nil {
			t.Fatalf("remove #%d: %v (removing an absent peer must not be an error)", i+1, err)
		}
	}
	// Core keeps the connection of a removed added node; RemovePeer closes
	// it too (disconnectnode).
	info, err := a.NetworkInfo(ctx)
	if err != nil || info.Connections != 0 {
		t.Errorf("network info %+v %v: the removed peer is still connected", info, err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	network := fake.NewNetwork()
	_, loading := startFake(t, network, "127.0.0.4:18444", time.Hour)
	_, err := loading.BlockCount(ctx)
	if !bitcoin.IsWarmingUp(err) {
		t.Errorf("loading node: %v, want a -28 warm-up error", err)
	}
	if code, ok := bitcoin.ErrorCode(err); !ok || code != -28 {
		t.Errorf("ErrorCode = %d %v, want -28", code, ok)
	}

	node, _ := startFake(t, network, "127.0.0.5:18444", 0)
	srv := httptest.NewServer(node)
	defer srv.Close()
	wrong := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://"), User: "bitcoin", Password: "wrong"},
		bitcoin.Transport(nil), time.Second)
	if _, err := wrong.BlockCount(ctx); !errors.Is(err, bitcoin.ErrUnauthorized) {
		t.Errorf("wrong password: %v, want ErrUnauthorized", err)
	}
	if err := wrong.AddPeer(ctx, "x"); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %v must not contain the password", err)
	}
}

func TestEveryCallHasADeadline(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	client := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://")},
		bitcoin.Transport(nil), 50*time.Millisecond)
	_, err := client.BlockCount(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung node: %v, want a deadline error", err)
	}
}

func TestFakeConnectsAtMostEightAddedNodes(t *testing.T) {
	ctx := context.Background()
	network := fake.NewNetwork()
	hub, client := startFake(t, network, "127.0.1.1:18444", 0)
	for i := 2; i <= 11; i++ {
		addr := "127.0.1." + string(rune('0'+i/10)) + string(rune('0'+i%10)) + ":18444"
		startFake(t, network, addr, 0)
		if err := client.AddPeer(ctx, addr); err != nil {
			t.Fatal(err)
		}
	}
	hub.ConnectAddedNodes()
	added, _ := client.AddedNodes(ctx)
	connected := 0
	for _, a := range added {
		if a.Connected {
			connected++
		}
	}
	if len(added) != 10 || connected != fake.MaxAddnodeConnections {
		t.Errorf("%d added, %d connected; want 10 added and only %d connected", len(added), connected, fake.MaxAddnodeConnections)
	}
}

// closingServer answers the first request on each connection and closes
// the connection when the second arrives, without answering: what a client
// sees when it reuses a connection just as Bitcoin Core's server closes it
// for idleness (-rpcservertimeout). It counts the requests per method.
func closingServer(t *testing.T) (string, func(method string) int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	seen := map[string]int{}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					var body struct {
						Method string `json:"method"`
					}
					_ = json.NewDecoder(req.Body).Decode(&body)
					mu.Lock()
					seen[body.Method]++
					mu.Unlock()
					if i == 1 {
						return // closed under the client's feet
					}
					reply := `{"result":7,"error":null,"id":1}`
					fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(reply), reply)
				}
			}()
		}
	}()
	return ln.Addr().String(), func(method string) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[method]
	}
}

func TestCallOnAConnectionTheServerClosedIsSentAgainOnce(t *testing.T) {
	ctx := context.Background()
	addr, seen := closingServer(t)
	client := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: addr}, bitcoin.Transport(nil), 2*time.Second)
	for i := 0; i < 3; i++ {
		if n, err := client.BlockCount(ctx); err != nil || n != 7 {
			t.Fatalf("call %d: %d, %v; want the call sent again on a new connection", i+1, n, err)
		}
	}
	if got := seen("getblockcount"); got != 5 {
		t.Errorf("server saw getblockcount %d times, want 5 (3 calls, 2 of them resent once)", got)
	}
	// A raw Call may not be safe to repeat (e.g. mining): it is never resent.
	if err := bitcoin.Call(ctx, client, "generatetoaddress", nil, 1, "addr"); err == nil {
		t.Fatal("Call on a closed connection succeeded, want the error")
	}
	if got := seen("generatetoaddress"); got != 1 {
		t.Errorf("server saw generatetoaddress %d times, want exactly once", got)
	}
}

// Every call is reported to the observer, its failure sorted for metrics.
func TestTheObserverSeesEveryCallAndItsErrorClass(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Method string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch req.Method {
		case "getblockcount":
			fmt.Fprint(w, `{"result":7,"error":null,"id":1}`)
		case "getpeerinfo":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"result":null,"error":{"code":-28,"message":"Loading"},"id":1}`)
		case "getaddednodeinfo":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			fmt.Fprint(w, `<html>`)
		}
	}))
	defer srv.Close()
	type seen struct{ method, class string }
	var mu sync.Mutex
	var calls []seen
	node := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://")}, bitcoin.Transport(nil), time.Second,
		bitcoin.WithObserver(func(method string, took time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			if took <= 0 {
				t.Errorf("%s took %v", method, took)
			}
			calls = append(calls, seen{method, bitcoin.ErrorClass(err)})
		}))
	_, _ = node.BlockCount(ctx)
	_, _ = node.Peers(ctx)
	_, _ = node.AddedNodes(ctx)
	_, _ = node.ChainInfo(ctx)
	dead := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: "127.0.0.1:1"}, bitcoin.Transport(nil), time.Second,
		bitcoin.WithObserver(func(method string, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, seen{method, bitcoin.ErrorClass(err)})
		}))
	_, _ = dead.BlockCount(ctx)
	want := []seen{{"getblockcount", ""}, {"getpeerinfo", "-28"}, {"getaddednodeinfo", "unauthorized"}, {"getblockchaininfo", "http"}, {"getblockcount", "transport"}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", calls, want)
	}
}
