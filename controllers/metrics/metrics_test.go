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

package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
)

// The alert rules and dashboard are checked against this list
// (test/prometheus): it must be the metrics the operator serves.
func TestMetricsListIsCurrent(t *testing.T) {
	raw, err := os.ReadFile("../../config/prometheus/metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	listed := strings.Fields(string(raw))
	if served := MetricNames(); !slices.Equal(listed, served) || len(served) < 9 {
		t.Errorf("config/prometheus/metrics.txt lists %v, the operator serves %v: run make manifests", listed, served)
	}
}

// A node answering every call with another error code cannot make the
// operator create a series per code: codes nodes do not define share the
// label "other".
func TestANodeCannotChooseTheErrorLabels(t *testing.T) {
	var next atomic.Int64
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		code := -100 - next.Add(1) // never a code nodes define
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"result": nil, "error": map[string]any{"code": code, "message": "x"}, "id": 1})
	}))
	defer node.Close()
	const ns, network = "metrics-test", "hostile"
	defer Forget(ns, network)
	client := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: strings.TrimPrefix(node.URL, "http://")}, http.DefaultTransport, time.Second,
		bitcoin.WithObserver(func(method string, took time.Duration, err error) { ObserveRPC(ns, network, method, took, err) }))
	before := testutil.CollectAndCount(rpcErrors)
	for range 10000 {
		if _, err := client.BlockCount(context.Background()); err == nil {
			t.Fatal("the node's error was not returned")
		}
	}
	if added := testutil.CollectAndCount(rpcErrors) - before; added != 1 {
		t.Errorf("10000 distinct error codes made %d series, want 1 (code=\"other\")", added)
	}
	if v := testutil.ToFloat64(rpcErrors.WithLabelValues(ns, network, "other")); v != 10000 {
		t.Errorf("code=\"other\" counted %v calls, want 10000", v)
	}
	// The codes nodes define keep their own label.
	for _, c := range []struct {
		code int
		want string
	}{{-28, "-28"}, {-32601, "-32601"}, {-41, "other"}, {1, "other"}, {-32000, "other"}} {
		if got := ErrorLabel(&bitcoin.RPCError{Code: btcjson.RPCErrorCode(c.code)}); got != c.want {
			t.Errorf("code %d: label %q, want %q", c.code, got, c.want)
		}
	}
}
