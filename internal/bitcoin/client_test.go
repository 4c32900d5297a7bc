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
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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
	info, err := a.NetworkInfo(ctx)
	if err != nil || info.Connections != 1 {
		t.Errorf("network info %+v %v: Core keeps the connection of a removed added node", info, err)
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
