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

package resources

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// Paths inside a node container.
const (
	ConfigDir  = "/etc/bitcoin"
	DataDir    = "/data"
	TmpDir     = "/tmp"
	TLSDir     = "/etc/bitcoin-tls"
	configFile = "node.conf"
)

// regtestMaxTipAge is the -maxtipage a regtest node gets, in seconds (68
// years): any tip, the genesis included, counts as recent.
const regtestMaxTipAge = 1<<31 - 1

// RegtestFallbackFee is the fee rate (BTC/kvB) a regtest Bitcoin Core
// wallet pays when it has no estimate, unless spec.config sets fallbackfee:
// 2 sat/vB, above every default minimum relay fee (Knots' included).
const RegtestFallbackFee = "0.00002"

// ConfigFilePath is where the node reads its configuration file.
const ConfigFilePath = ConfigDir + "/" + configFile

// NodeConfig renders the node configuration file of a group of a network:
// chain selection, explicit ports and listen addresses, then the user's
// extra options. It never contains credentials: those reach the node from
// its Secret.
func NodeConfig(n *v1alpha1.BitcoinNetwork, g Group) string {
	var b strings.Builder
	if g.Name == "" {
		fmt.Fprintf(&b, "# Rendered by bitcoin-network-operator for BitcoinNetwork %s/%s.\n", n.Namespace, n.Name)
		b.WriteString("# Edits are overwritten: change spec.config instead.\n")
	} else {
		fmt.Fprintf(&b, "# Rendered by bitcoin-network-operator for group %s of BitcoinNetwork %s/%s.\n", g.Name, n.Namespace, n.Name)
		b.WriteString("# Edits are overwritten: change the group's config instead.\n")
	}
	ports := PortsFor(g.Implementation, n.Spec.Chain)
	if g.Implementation == v1alpha1.ImplementationBtcd {
		b.WriteString("[Application Options]\n")
		fmt.Fprintf(&b, "%s=1\n", btcdChainOption(n.Spec.Chain))
		fmt.Fprintf(&b, "datadir=%s/btcd\n", DataDir)
		fmt.Fprintf(&b, "logdir=%s/logs\n", DataDir)
		fmt.Fprintf(&b, "listen=:%d\n", ports.P2P)
		fmt.Fprintf(&b, "rpclisten=:%d\n", ports.RPC)
		// btcd serves RPC over TLS with the certificate the operator
		// issued for the network (see TLSSecretName).
		fmt.Fprintf(&b, "rpccert=%s/%s\n", TLSDir, corev1.TLSCertKey)
		fmt.Fprintf(&b, "rpckey=%s/%s\n", TLSDir, corev1.TLSPrivateKeyKey)
		if _, set := g.Config["nostalldetect"]; n.Spec.Chain == v1alpha1.ChainRegtest && !set {
			// btcd drops a peer 30-45 s after asking it for blocks while its
			// own tip is over a day old (its stall detector), which on a
			// regtest chain without recent blocks is every peer, forever.
			b.WriteString("nostalldetect=1\n")
		}
		writeOptions(&b, g.Config, n.Spec.Chain == v1alpha1.ChainRegtest)
		return b.String()
	}
	option, section := bitcoindChainOption(n.Spec.Chain)
	fmt.Fprintf(&b, "%s=1\n", option)
	// Every other option goes into the chain's section, where Bitcoin Core
	// honours all of them.
	fmt.Fprintf(&b, "\n[%s]\n", section)
	b.WriteString("server=1\n")
	b.WriteString("listen=1\n")
	b.WriteString("printtoconsole=1\n")
	// The log goes to the console only: debug.log would grow on the data
	// volume without end.
	b.WriteString("nodebuglogfile=1\n")
	// No Tor in a pod: without this Core keeps dialling a Tor control port
	// on 127.0.0.1:9051.
	b.WriteString("listenonion=0\n")
	// No bind option: without one Core listens for peers on both :: and
	// 0.0.0.0, so IPv4, IPv6 and dual-stack pods all work (bind=0.0.0.0
	// would listen on IPv4 only).
	fmt.Fprintf(&b, "port=%d\n", ports.P2P)
	fmt.Fprintf(&b, "rpcport=%d\n", ports.RPC)
	// RPC on every address of the pod, in this order: "::" accepts IPv4
	// too where the kernel has IPv6 (the 0.0.0.0 bind then fails, which Core
	// logs and tolerates); where it has none, "::" fails and 0.0.0.0 binds.
	// Knots exits when any rpcbind it was given fails: it gets "::" alone,
	// which takes IPv4 too wherever the kernel has IPv6.
	b.WriteString("rpcbind=::\n")
	if g.Implementation != v1alpha1.ImplementationKnots {
		b.WriteString("rpcbind=0.0.0.0\n")
	}
	// The operator reaches nodes by pod IP; rpcauth guards every call.
	b.WriteString("rpcallowip=0.0.0.0/0\n")
	b.WriteString("rpcallowip=::/0\n")
	if n.Spec.Chain == v1alpha1.ChainRegtest {
		// Only the planned peers: pods' routable IPs would otherwise reach
		// each other through addrman, in connections the plan does not
		// have. Added peers still connect; listen=1 above stays (connect
		// alone would turn listening off).
		b.WriteString("connect=0\n")
		if _, set := g.Config["maxtipage"]; !set {
			// A regtest chain's genesis is from 2011: with Core's default
			// of a day, a network without a recent block stays (or after a
			// restart falls back) in initial block download, where nodes
			// ignore transactions.
			b.WriteString("maxtipage=" + strconv.Itoa(regtestMaxTipAge) + "\n")
		}
		if _, set := g.Config["fallbackfee"]; !set {
			// Regtest has no fee estimates: without a fallback fee a
			// wallet's sendtoaddress fails (-6 "Fallbackfee is disabled").
			b.WriteString("fallbackfee=" + RegtestFallbackFee + "\n")
		}
	}
	if PrivateSignet(n) && n.Spec.Signet.Challenge != "" {
		// A chain of its own: the challenge names it (and its network
		// magic); no seeds, and only the planned peers, as on regtest.
		b.WriteString("signetchallenge=" + n.Spec.Signet.Challenge + "\n")
		b.WriteString("dnsseed=0\nfixedseeds=0\nconnect=0\n")
	}
	writeOptions(&b, g.Config, n.Spec.Chain == v1alpha1.ChainRegtest)
	return b.String()
}

// writeOptions appends the user's options, sorted so the file (and the
// config hash) does not depend on map order. An option the operator owns,
// or one that would not be one line of the file, is never written, whatever
// the API server let through (CheckConfig reports it); on regtest that
// includes connect.
func writeOptions(b *strings.Builder, config v1alpha1.NodeConfig, regtest bool) {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(config)) {
		if regtest && k == "connect" {
			continue
		}
		if optionProblem(k, string(config[k])) == "" {
			lines = append(lines, fmt.Sprintf("%s=%s\n", k, config[k]))
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("# spec.config\n")
	for _, l := range lines {
		b.WriteString(l)
	}
}

// DesiredConfigMap renders the ConfigMap holding the node configuration of
// every group: node.conf for a network of one group, <group>.conf each
// with spec.groups.
func DesiredConfigMap(n *v1alpha1.BitcoinNetwork) *corev1.ConfigMap {
	data := map[string]string{}
	for _, g := range Groups(n) {
		data[configKey(g)] = NodeConfig(n, g)
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: objectMeta(n, ConfigMapName(n)),
		Data:       data,
	}
}
