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

package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
)

// scrape reads the operator's metrics endpoint.
func scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := fixture.Scrape(metricsAddress)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value is the sample of family whose labels include want (counters,
// gauges; histograms give their count); ok is false when there is none.
func value(families map[string]*dto.MetricFamily, family string, want map[string]string) (float64, bool) {
	f := families[family]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// The metrics endpoint, scraped over HTTP, tells what the network is: its
// nodes, connections, conditions, heights, checks, RPC latencies and the
// RPC errors of a node that answers "loading".
func TestTheMetricsEndpointDescribesARealNetwork(t *testing.T) {
	ns := newNamespace(t)
	n := fixture.CreateNetworkWith(t, k8s, ns, "gauged", v1alpha1.ImplementationBitcoind, 3, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 7}
	})
	waitChain(t, n, 3, 7, 90*time.Second)
	net := map[string]string{"namespace": ns, "network": "gauged"}
	with := func(extra ...string) map[string]string {
		l := map[string]string{}
		for k, v := range net {
			l[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	eventually(t, 20*time.Second, "metrics of a Ready network in sync", func() error {
		m := scrape(t)
		for _, c := range []struct {
			family string
			labels map[string]string
			want   float64
		}{
			{"bitcoin_network_nodes", with("state", "desired"), 3},
			{"bitcoin_network_nodes", with("state", "ready"), 3},
			{"bitcoin_network_peer_connections", with("state", "planned"), 3},
			{"bitcoin_network_peer_connections", with("state", "connected"), 3},
			{"bitcoin_network_condition", with("type", "Ready", "status", "True"), 1},
			{"bitcoin_network_condition", with("type", "InSync", "status", "True"), 1},
			{"bitcoin_network_condition", with("type", "Degraded", "status", "False"), 1},
			{"bitcoin_network_node_block_height", with("node", "gauged-2"), 7},
		} {
			if got, ok := value(m, c.family, c.labels); !ok || got != c.want {
				return fmt.Errorf("%s%v = %v (present: %v), want %v", c.family, c.labels, got, ok, c.want)
			}
		}
		if got, _ := value(m, "bitcoin_network_peer_checks_total", net); got < 1 {
			return fmt.Errorf("bitcoin_network_peer_checks_total = %v", got)
		}
		if got, _ := value(m, "bitcoin_node_rpc_duration_seconds", map[string]string{"method": "getpeerinfo"}); got < 3 {
			return fmt.Errorf("%v getpeerinfo calls timed", got)
		}
		return nil
	})

	before, _ := value(scrape(t), "bitcoin_node_rpc_errors_total", with("code", "-28"))
	loading := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":1}`)
	})
	if err := sim.ReplaceRPC(ns, "gauged-1", loading); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the loading node's errors counted", func() error {
		if got, _ := value(scrape(t), "bitcoin_node_rpc_errors_total", with("code", "-28")); got < before+3 {
			return fmt.Errorf("bitcoin_node_rpc_errors_total{code=-28} = %v, was %v", got, before)
		}
		return nil
	})
}
