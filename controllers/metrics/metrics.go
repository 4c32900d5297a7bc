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

// Package metrics defines the Prometheus metrics the operator serves about
// its networks and nodes, next to controller-runtime's own.
package metrics

import (
	"regexp"
	"slices"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
)

// Metrics of what the operator sees, served on the manager's metrics
// endpoint next to controller-runtime's own.
var (
	networkNodes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bitcoin_network_nodes",
		Help: "Nodes of a BitcoinNetwork: desired (spec), current (pods) and ready.",
	}, []string{"namespace", "network", "state"})
	networkConnections = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bitcoin_network_peer_connections",
		Help: "Planned peer connections between ready nodes, those connected, and those waiting for a node.",
	}, []string{"namespace", "network", "state"})
	networkCondition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bitcoin_network_condition",
		Help: "1 for the status (True, False, Unknown) each condition of a BitcoinNetwork has, 0 for the others.",
	}, []string{"namespace", "network", "type", "status"})
	nodeBlockHeight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bitcoin_network_node_block_height",
		Help: "Height of each node's best chain, as last read over RPC.",
	}, []string{"namespace", "network", "node"})
	nodePeers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bitcoin_network_node_peers",
		Help: "Live connections of each node with the network's other nodes, as last read over RPC (peers from elsewhere do not count).",
	}, []string{"namespace", "network", "node"})
	rpcErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bitcoin_node_rpc_errors_total",
		Help: "Failed RPC calls to a network's nodes, by cause: the JSON-RPC error code (e.g. -28, node loading), unauthorized, timeout, http (not a JSON-RPC answer) or transport (no answer).",
	}, []string{"namespace", "network", "code"})
	rpcDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bitcoin_node_rpc_duration_seconds",
		Help:    "Time of RPC calls to the nodes, by method, failed calls included.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"method"})
	peerChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bitcoin_network_peer_checks_total",
		Help: "Verify-and-repair passes the operator ran on a network's nodes.",
	}, []string{"namespace", "network"})
	peerRepairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bitcoin_network_peer_repairs_total",
		Help: "Peers the operator added to or removed from nodes, each counted once: the same repair made again on the next check, without progress, is not counted again.",
	}, []string{"namespace", "network"})
	faultsActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bitcoin_network_faults_active",
		Help: "BitcoinNetworkFaults the operator enforces on a network (0 or 1: one at a time).",
	}, []string{"namespace", "network"})
	faultReorgDepth = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bitcoin_network_fault_reorg_depth",
		Help:    "Depth of each reorganisation a node reported after a fault was healed (getchaintips).",
		Buckets: []float64{1, 2, 3, 6, 10, 25, 50, 100},
	}, []string{"namespace", "network"})
	faultConvergence = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bitcoin_network_fault_convergence_seconds",
		Help:    "Time from a fault's heal to every ready node at one tip, as the operator's passes saw it.",
		Buckets: []float64{1, 2, 5, 10, 30, 60, 120, 300},
	}, []string{"namespace", "network"})
)

// collectors are the operator's own metrics.
var collectors = []prometheus.Collector{networkNodes, networkConnections, networkCondition, nodeBlockHeight, nodePeers, peerChecks, peerRepairs, rpcErrors, rpcDuration, faultsActive, faultReorgDepth, faultConvergence}

func init() {
	metrics.Registry.MustRegister(collectors...)
}

// RecordFaults sets how many faults are enforced on a network.
func RecordFaults(namespace, network string, active int) {
	faultsActive.WithLabelValues(namespace, network).Set(float64(active))
}

// ObserveHeal records a healed fault's convergence and the depth of each
// reorganisation its nodes reported.
func ObserveHeal(namespace, network string, convergence time.Duration, depths []int64) {
	faultConvergence.WithLabelValues(namespace, network).Observe(convergence.Seconds())
	for _, d := range depths {
		faultReorgDepth.WithLabelValues(namespace, network).Observe(float64(d))
	}
}

// Connections are a network's planned peer connections between ready
// nodes, those up, and those waiting for a node.
type Connections struct{ Planned, Connected, Waiting int }

// RecordNetwork publishes a network's state after a status computation;
// conns is nil when no peer check has run.
func RecordNetwork(n *v1alpha1.BitcoinNetwork, st v1alpha1.BitcoinNetworkStatus, conns *Connections) {
	ns, name := n.Namespace, n.Name
	networkNodes.WithLabelValues(ns, name, "desired").Set(float64(st.DesiredNodes))
	networkNodes.WithLabelValues(ns, name, "current").Set(float64(st.CurrentNodes))
	networkNodes.WithLabelValues(ns, name, "ready").Set(float64(st.ReadyNodes))
	if conns != nil {
		networkConnections.WithLabelValues(ns, name, "planned").Set(float64(conns.Planned))
		networkConnections.WithLabelValues(ns, name, "connected").Set(float64(conns.Connected))
		networkConnections.WithLabelValues(ns, name, "waiting").Set(float64(conns.Waiting))
	}
	for _, t := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded, v1alpha1.ConditionPeersConnected, v1alpha1.ConditionInSync} {
		c := meta.FindStatusCondition(st.Conditions, t)
		for _, s := range []string{"True", "False", "Unknown"} {
			v := 0.0
			if c != nil && string(c.Status) == s {
				v = 1
			}
			networkCondition.WithLabelValues(ns, name, t, s).Set(v)
		}
	}
	nodeBlockHeight.DeletePartialMatch(prometheus.Labels{"namespace": ns, "network": name})
	nodePeers.DeletePartialMatch(prometheus.Labels{"namespace": ns, "network": name})
	for _, node := range st.Nodes {
		if node.Ready && node.Message == "" && n.Spec.Topology != v1alpha1.TopologyNone {
			nodePeers.WithLabelValues(ns, name, node.Name).Set(float64(node.Peers))
		}
		if node.BlockHeight > 0 || node.Message == "" {
			nodeBlockHeight.WithLabelValues(ns, name, node.Name).Set(float64(node.BlockHeight))
		}
	}
}

// RecordPeerCheck counts a verify-and-repair pass and the repairs it made.
func RecordPeerCheck(namespace, network string, repairs int) {
	peerChecks.WithLabelValues(namespace, network).Inc()
	if repairs > 0 {
		peerRepairs.WithLabelValues(namespace, network).Add(float64(repairs))
	}
}

// Forget drops the series of a network that is gone.
func Forget(namespace, name string) {
	labels := prometheus.Labels{"namespace": namespace, "network": name}
	for _, v := range []*prometheus.GaugeVec{networkNodes, networkConnections, networkCondition, nodeBlockHeight, nodePeers, faultsActive} {
		v.DeletePartialMatch(labels)
	}
	faultReorgDepth.DeletePartialMatch(labels)
	faultConvergence.DeletePartialMatch(labels)
	peerRepairs.DeletePartialMatch(labels)
	peerChecks.DeletePartialMatch(labels)
	rpcErrors.DeletePartialMatch(labels)
}

// ObserveRPC records one RPC call to a network's node.
func ObserveRPC(namespace, network, method string, took time.Duration, err error) {
	rpcDuration.WithLabelValues(method).Observe(took.Seconds())
	if class := ErrorLabel(err); class != "" {
		rpcErrors.WithLabelValues(namespace, network, class).Inc()
	}
}

// ErrorLabel is the code label of a failed call: bitcoin.ErrorClass for
// the JSON-RPC error codes Bitcoin Core and btcd define (-1 to -40, and the
// JSON-RPC standard's -32600 to -32603 and -32700), and "other" for any
// other code, so that a node cannot make the operator create series
// without bound; "" for nil.
func ErrorLabel(err error) string {
	code, ok := bitcoin.ErrorCode(err)
	if ok && !(code >= -40 && code <= -1) && !slices.Contains(jsonRPCCodes, code) {
		return "other"
	}
	return bitcoin.ErrorClass(err)
}

// jsonRPCCodes are the JSON-RPC 2.0 specification's error codes.
var jsonRPCCodes = []btcjson.RPCErrorCode{-32700, -32600, -32601, -32602, -32603}

// MetricNames are the names of the metrics the operator serves besides
// controller-runtime's (config/prometheus/metrics.txt lists them for the
// alert rules' test).
func MetricNames() []string {
	var names []string
	for _, c := range collectors {
		ch := make(chan *prometheus.Desc, 1)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				names = append(names, m[1])
			}
		}
	}
	slices.Sort(names)
	return names
}

// fqName finds a metric's name in its description (prometheus.Desc keeps
// it unexported).
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)
