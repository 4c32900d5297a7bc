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
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
)

// A node's answers are untrusted input: these tests play hostile nodes.

func hostile(t *testing.T, h http.HandlerFunc) bitcoin.Node {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(srv.URL, "http://"), User: "u", Password: "p"},
		bitcoin.Transport(nil), 2*time.Second)
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write([]byte(`{"result":[],"error":null,"id":1}`))
	}))
	defer target.Close()
	node := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/internal/secret", http.StatusTemporaryRedirect)
	})
	for i := 0; i < 3; i++ {
		if _, err := node.AddedNodes(context.Background()); err == nil {
			t.Fatal("a redirect answered the call")
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the operator sent %d requests to the address the node redirected to", n)
	}
}

func TestHugeAndEndlessAnswersFailOnlyThatCall(t *testing.T) {
	huge := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"result":"` + strings.Repeat("x", 2<<20) + `","error":null,"id":1}`))
	})
	if _, err := huge.ChainInfo(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a 2 MiB answer: %v, want a size error", err)
	}
	endless := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"result":[`))
		for r.Context().Err() == nil {
			if _, err := w.Write([]byte(`{"addednode":"1.2.3.4:1","connected":true,"addresses":[]},`)); err != nil {
				return
			}
		}
	})
	start := time.Now()
	if _, err := endless.AddedNodes(context.Background()); err == nil {
		t.Error("an endless answer decoded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("an endless answer held the call for %v", d)
	}
}

func TestListsAreDeduplicatedAndBounded(t *testing.T) {
	entry := func(addr string, connected bool) string {
		return fmt.Sprintf(`{"addednode":%q,"connected":%v,"addresses":[]}`, addr, connected)
	}
	dup := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"result":[` + entry("10.0.0.1:18444", false) + "," + entry("10.0.0.1:18444", true) + "," + entry("10.0.0.2:18444", false) + `],"error":null,"id":1}`))
	})
	added, err := dup.AddedNodes(context.Background())
	if err != nil || len(added) != 2 || !added[0].Connected {
		t.Errorf("added nodes %+v (%v), want two entries, the first connected", added, err)
	}
	many := hostile(t, func(w http.ResponseWriter, _ *http.Request) {
		entries := make([]string, 1001)
		for i := range entries {
			entries[i] = entry(fmt.Sprintf("10.0.%d.%d:18444", i/250, i%250), false)
		}
		_, _ = w.Write([]byte(`{"result":[` + strings.Join(entries, ",") + `],"error":null,"id":1}`))
	})
	if _, err := many.AddedNodes(context.Background()); err == nil {
		t.Error("1001 added nodes accepted")
	}
}
