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

package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// These tests send objects to a real kube-apiserver with the generated CRD,
// so they prove the OpenAPI schema, defaults and CEL rules users meet.

var k8s client.Client

func TestMain(m *testing.M) { os.Exit(envtest.Run(m, &k8s)) }

func network(name string, mutate func(*v1alpha1.BitcoinNetwork)) *v1alpha1.BitcoinNetwork {
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	n.Spec.Nodes = ptr.To[int32](3)
	if mutate != nil {
		mutate(n)
	}
	return n
}

func TestEmptySpecGetsDefaults(t *testing.T) {
	ctx := context.Background()
	// An object with no spec at all, as "kubectl apply" of a bare manifest sends it.
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: "default"}}
	raw := map[string]any{"apiVersion": "bitcoin.network-operator.dev/v1alpha1", "kind": "BitcoinNetwork",
		"metadata": map[string]any{"name": "defaults", "namespace": "default"}}
	u := toUnstructured(raw)
	if err := k8s.Create(ctx, u); err != nil {
		t.Fatalf("creating a network without spec: %v", err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
		t.Fatal(err)
	}
	// Chain and topology are defaulted by the API server; node count,
	// implementation and resources by the operator (they belong to a group
	// with spec.groups, so the API server cannot default them).
	s := n.Spec
	if s.Chain != v1alpha1.ChainRegtest || s.Topology != v1alpha1.TopologyMesh || s.Nodes != nil || s.Implementation != "" {
		t.Errorf("defaults = chain %q topology %q nodes %v implementation %q, want regtest mesh and the rest unset", s.Chain, s.Topology, s.Nodes, s.Implementation)
	}
	g := resources.Groups(n)
	if len(g) != 1 || g[0].Nodes != 3 || g[0].Implementation != v1alpha1.ImplementationBitcoind ||
		!g[0].Resources.Requests.Cpu().Equal(resource.MustParse("100m")) || !g[0].Resources.Requests.Memory().Equal(resource.MustParse("256Mi")) {
		t.Errorf("the operator's defaults: %+v, want one group of 3 bitcoind nodes requesting cpu 100m memory 256Mi", g)
	}
}

func TestZeroNodesIsKeptNotDefaulted(t *testing.T) {
	ctx := context.Background()
	n := network("zero", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](0) })
	if err := k8s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(n.Spec.Nodes, -1) != 0 {
		t.Fatalf("spec.nodes = %v after creating with 0, want 0", n.Spec.Nodes)
	}
}

func TestValidNetworksAreAccepted(t *testing.T) {
	ctx := context.Background()
	for i, mutate := range []func(*v1alpha1.BitcoinNetwork){
		func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Implementation = v1alpha1.ChainSignet, v1alpha1.ImplementationBtcd
		},
		func(n *v1alpha1.BitcoinNetwork) { n.Spec.Chain = v1alpha1.ChainTestnet4 },
		func(n *v1alpha1.BitcoinNetwork) {
			// A public chain's nodes may be pinned to chosen peers.
			n.Spec.Chain, n.Spec.Config = v1alpha1.ChainSignet, map[string]v1alpha1.ConfigValue{"connect": "192.0.2.1:38333"}
		},
		func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 1000, BlockInterval: &metav1.Duration{Duration: time.Second},
				MiningAddress: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"}
		},
		func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Implementation = v1alpha1.ChainTestnet3, v1alpha1.ImplementationBtcd
			n.Spec.Topology = v1alpha1.TopologyRing
		},
		func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain = v1alpha1.ChainSignet
			n.Spec.Signet = &v1alpha1.SignetSpec{BlockInterval: &metav1.Duration{Duration: 10 * time.Second}, InitialBlocks: ptr.To[int32](0)}
		},
		func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Implementation = v1alpha1.ChainSignet, v1alpha1.ImplementationKnots
			n.Spec.Signet = &v1alpha1.SignetSpec{Challenge: "5121" + strings.Repeat("02", 33) + "51ae", KeySecretName: "signer"}
		},
		func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Access = &v1alpha1.AccessSpec{
				RPCFrom: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "wallet"}}}},
				P2PFrom: []networkingv1.NetworkPolicyPeer{
					{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "lightning"}}, PodSelector: &metav1.LabelSelector{}},
					{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}},
				},
			}
		},
		func(n *v1alpha1.BitcoinNetwork) {
			n.Name = strings.Repeat("a", 52)
			n.Spec.Nodes = ptr.To[int32](1000)
			n.Spec.RPCSecretName = "my-rpc.credentials"
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1", "fallbackfee": "0.0002", "rpcthreads": "8",
				"maxconnections": "40", "noconnect": "1", "maxtipage": "3600", "rpcservertimeout": "60"}
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi"), StorageClassName: ptr.To("fast")}
		},
	} {
		n := network(fmt.Sprintf("valid-%d", i), mutate)
		if err := k8s.Create(ctx, n); err != nil {
			t.Errorf("case %d: valid network rejected: %v", i, err)
		}
	}
}

func TestInvalidNetworksAreRejectedWithAClearMessage(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		mutate  func(*v1alpha1.BitcoinNetwork)
		message string
	}{
		{"too many nodes", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](1001) }, "spec.nodes"},
		{"a private signet on regtest", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Signet = &v1alpha1.SignetSpec{} },
			"spec.signet applies only to chain signet"},
		{"a private signet of btcd", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Implementation, n.Spec.Signet = v1alpha1.ChainSignet, v1alpha1.ImplementationBtcd, &v1alpha1.SignetSpec{}
		}, "btcd does not check signet block signatures"},
		{"a challenge that is not hex", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Signet = v1alpha1.ChainSignet, &v1alpha1.SignetSpec{Challenge: "51ae5"}
		}, "spec.signet.challenge"},
		{"a key without a challenge", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Signet = v1alpha1.ChainSignet, &v1alpha1.SignetSpec{KeySecretName: "signer"}
		}, "set spec.signet.challenge too"},
		{"a signet interval too long", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Signet = v1alpha1.ChainSignet, &v1alpha1.SignetSpec{BlockInterval: &metav1.Duration{Duration: 2 * time.Hour}}
		}, "spec.signet.blockInterval must be between 1s and 1h"},
		{"an access peer that selects nothing", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Access = &v1alpha1.AccessSpec{RPCFrom: []networkingv1.NetworkPolicyPeer{{}}}
		}, "spec.access.rpcFrom: each peer sets podSelector, namespaceSelector or ipBlock"},
		{"an access peer with an IP block and a selector", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Access = &v1alpha1.AccessSpec{P2PFrom: []networkingv1.NetworkPolicyPeer{{
				IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: &metav1.LabelSelector{},
			}}}
		}, "spec.access.p2pFrom: a peer with ipBlock sets no selector"},
		{"regtest mining on signet", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Regtest = v1alpha1.ChainSignet, &v1alpha1.RegtestSpec{InitialBlocks: 101}
		}, "spec.regtest applies only to chain regtest"},
		{"too many initial blocks", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 1001} }, "spec.regtest.initialBlocks"},
		{"block interval too short", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Regtest = &v1alpha1.RegtestSpec{BlockInterval: &metav1.Duration{Duration: 100 * time.Millisecond}}
		}, "spec.regtest.blockInterval must be between 1s and 24h"},
		{"mining address with a space", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Regtest = &v1alpha1.RegtestSpec{MiningAddress: "bcrt1 q"} }, "spec.regtest.miningAddress"},
		{"negative nodes", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](-1) }, "spec.nodes"},
		{"mainnet", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Chain = "main" }, "spec.chain"},
		{"unknown implementation", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Implementation = "libbitcoin" }, "spec.implementation"},
		{"unknown topology", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Topology = "star" }, "spec.topology"},
		{"name too long", func(n *v1alpha1.BitcoinNetwork) { n.Name = strings.Repeat("a", 53) }, "at most 52 characters"},
		{"name not a DNS label", func(n *v1alpha1.BitcoinNetwork) { n.Name = "1net" }, "must start with a letter"},
		{"owned config key", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"rpcpassword": "x", "txindex": "1", "port": "1"}
		}, "config.rpcpassword is owned by the operator"},
		{"owned config key port", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"port": "1"} }, "config.port is owned by the operator"},
		{"negated owned key", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpcbind": "1"} },
			"config.norpcbind negates rpcbind, which is owned by the operator"},
		{"negated listen", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"nolisten": "1"} },
			"config.nolisten negates listen, which is owned by the operator"},
		{"negated server", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"noserver": "1"} },
			"config.noserver negates server"},
		{"negated rpcallowip", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpcallowip": "1"} },
			"config.norpcallowip negates rpcallowip"},
		{"negated rpccookiefile", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpccookiefile": "1"}
		},
			"config.norpccookiefile negates rpccookiefile"},
		{"negated credentials", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpcauth": "1"} },
			"config.norpcauth negates rpcauth, which is owned by the operator: remove it (credentials belong in spec.rpcSecretName)"},
		{"daemon mode", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"daemon": "1"} },
			"config.daemon is owned by the operator"},
		{"network off", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"networkactive": "0"}
		},
			"config.networkactive is owned by the operator"},
		{"rpc access list", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"rpcwhitelist": "bob:getblockcount"}
		},
			"config.rpcwhitelist is owned by the operator"},
		{"probe target", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"rpcconnect": "10.0.0.1"}
		},
			"config.rpcconnect is owned by the operator"},
		{"peer proxy", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"proxy": "127.0.0.1:9050"}
		},
			"config.proxy is owned by the operator"},
		{"connect on regtest", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"connect": "10.0.0.1"}
		},
			"spec.config.connect is owned by the operator on regtest"},
		{"a debug log file on the data volume", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"debuglogfile": "/data/debug.log"}
		}, "config.debuglogfile is owned by the operator"},
		{"value with a comment sign", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"uacomment": "team#1"}
		}, "config.uacomment: a value cannot contain #"},
		{"maxconnections without inbound slots", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxconnections": "11"}
		}, "config.maxconnections must be a number of at least 12"},
		{"maxconnections not a number", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxconnections": "many"}
		}, "config.maxconnections must be a number of at least 12"},
		{"maxconnections negated", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"nomaxconnections": "1"}
		}, "config.maxconnections must be a number of at least 12"},
		{"config key with dash", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"no-dash": "1"} }, "config keys must be option names"},
		{"config section injection", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"[main]": "1"} }, "config keys must be option names"},
		{"multi-line config value", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1\nrpcallowip=0.0.0.0/0"}
		}, "config values must be a single line"},
		{"too long config value", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"uacomment": v1alpha1.ConfigValue(strings.Repeat("x", 1025))}
		}, "config.uacomment"},
		{"toleration Exists with a value", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Value: "bitcoin", Effect: corev1.TaintEffectNoSchedule}}
		}, "a toleration with operator Exists"},
		{"bad secret name", func(n *v1alpha1.BitcoinNetwork) { n.Spec.RPCSecretName = "Not_A_Name" }, "spec.rpcSecretName"},
		{"bad retention policy", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi"), WhenDeleted: "Keep"}
		}, "spec.storage.whenDeleted"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := network(fmt.Sprintf("invalid-%d", i), tt.mutate)
			err := k8s.Create(ctx, n)
			if err == nil {
				t.Fatalf("created, want rejection mentioning %q", tt.message)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("error %q does not mention %q", err, tt.message)
			}
		})
	}
}

func TestImmutableFieldsCannotChange(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		initial func(*v1alpha1.BitcoinNetwork)
		change  func(*v1alpha1.BitcoinNetwork)
		message string
	}{
		{"chain", nil, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Chain = v1alpha1.ChainSignet }, "spec.chain is immutable"},
		{"implementation", nil, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Implementation = v1alpha1.ImplementationBtcd }, "spec.implementation is immutable"},
		{"storage added", nil, func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
		}, "spec.storage cannot be added or removed"},
		{"storage removed", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
		}, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Storage = nil }, "spec.storage cannot be added or removed"},
		{"storage class added", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
		}, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Storage.StorageClassName = ptr.To("fast") }, "spec.storage.storageClassName is immutable"},
		{"storage class removed", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi"), StorageClassName: ptr.To("fast")}
		}, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Storage.StorageClassName = nil }, "spec.storage.storageClassName is immutable"},
		{"storage class changed", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi"), StorageClassName: ptr.To("fast")}
		}, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Storage.StorageClassName = ptr.To("slow") }, "spec.storage.storageClassName is immutable"},
		{"storage size", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
		}, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Storage.Size = resource.MustParse("2Gi") }, "spec.storage.size is immutable"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := network(fmt.Sprintf("immutable-%d", i), tt.initial)
			if err := k8s.Create(ctx, n); err != nil {
				t.Fatal(err)
			}
			tt.change(n)
			err := k8s.Update(ctx, n)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("update error = %v, want one mentioning %q", err, tt.message)
			}
		})
	}
	// Mutable fields stay mutable.
	n := network("mutable", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
	})
	if err := k8s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Spec.Nodes, n.Spec.Topology, n.Spec.Storage.WhenScaled = ptr.To[int32](5), v1alpha1.TopologyRing, "Delete"
	n.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	if err := k8s.Update(ctx, n); err != nil {
		t.Fatalf("updating mutable fields: %v", err)
	}
}

// groupsNetwork is a network of node groups (and no single-group fields).
func groupsNetwork(name string, groups ...v1alpha1.NodeGroup) *v1alpha1.BitcoinNetwork {
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	n.Spec.Groups = groups
	return n
}

func TestNodeGroupsAreValidatedUpFront(t *testing.T) {
	ctx := context.Background()
	core := v1alpha1.NodeGroup{Name: "core", Nodes: 2}
	mixed := groupsNetwork("mixed", core,
		v1alpha1.NodeGroup{Name: "core30", Nodes: 2, Image: "example.org/bitcoind:30.0"},
		v1alpha1.NodeGroup{Name: "knots", Nodes: 2, Implementation: v1alpha1.ImplementationKnots},
		v1alpha1.NodeGroup{Name: "btcd", Nodes: 2, Implementation: v1alpha1.ImplementationBtcd, Config: v1alpha1.NodeConfig{"txindex": "1"}})
	mixed.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 101, MinerGroup: "core30"}
	if err := k8s.Create(ctx, mixed); err != nil {
		t.Fatalf("a network of four groups rejected: %v", err)
	}
	if g := mixed.Spec.Groups[0]; g.Implementation != v1alpha1.ImplementationBitcoind {
		t.Errorf("a group's defaults: %+v, want bitcoind", g)
	}
	for i, c := range []struct {
		name    string
		n       *v1alpha1.BitcoinNetwork
		message string
	}{
		{"groups and spec.nodes", func() *v1alpha1.BitcoinNetwork {
			n := groupsNetwork("x", core)
			n.Spec.Nodes = ptr.To[int32](3)
			return n
		}(), "spec.groups replaces spec.nodes"},
		{"groups and spec.image", func() *v1alpha1.BitcoinNetwork {
			n := groupsNetwork("x", core)
			n.Spec.Image = "x"
			return n
		}(), "spec.groups replaces spec.nodes, implementation, image"},
		{"a name twice", groupsNetwork("x", core, core), "Duplicate value"},
		{"a name that is no DNS label", groupsNetwork("x", v1alpha1.NodeGroup{Name: "Core_29", Nodes: 1}), "spec.groups[0].name"},
		{"names too long together", groupsNetwork(strings.Repeat("n", 30), v1alpha1.NodeGroup{Name: strings.Repeat("g", 22), Nodes: 1}),
			"metadata.name and a group's name together must have at most 51 characters"},
		{"more than 1000 nodes", groupsNetwork("x", v1alpha1.NodeGroup{Name: "a", Nodes: 600}, v1alpha1.NodeGroup{Name: "b", Nodes: 401}), "at most 1000 nodes in all"},
		{"more than 8 groups", func() *v1alpha1.BitcoinNetwork {
			var gs []v1alpha1.NodeGroup
			for i := range 9 {
				gs = append(gs, v1alpha1.NodeGroup{Name: fmt.Sprintf("g%d", i), Nodes: 1})
			}
			return groupsNetwork("x", gs...)
		}(), "spec.groups: Too many"},
		{"an owned option in a group", groupsNetwork("x", v1alpha1.NodeGroup{Name: "a", Nodes: 1, Config: v1alpha1.NodeConfig{"rpcport": "1"}}),
			"config.rpcport is owned by the operator"},
		{"connect in a group on regtest", groupsNetwork("x", v1alpha1.NodeGroup{Name: "a", Nodes: 1, Config: v1alpha1.NodeConfig{"connect": "1.2.3.4"}}),
			"spec.groups[].config.connect is owned by the operator on regtest"},
		{"a miner group that is no group", func() *v1alpha1.BitcoinNetwork {
			n := groupsNetwork("x", core)
			n.Spec.Regtest = &v1alpha1.RegtestSpec{MinerGroup: "nope"}
			return n
		}(), "spec.regtest.minerGroup must name one of spec.groups"},
	} {
		c.n.Name = fmt.Sprintf("%s-%d", c.n.Name, i)
		if c.name == "names too long together" {
			c.n.Name = strings.Repeat("n", 30)
		}
		err := k8s.Create(ctx, c.n)
		if err == nil || !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s: %v, want a rejection mentioning %q", c.name, err, c.message)
		}
	}

	// A group's implementation is fixed; the form of a network too.
	mixed.Spec.Groups[3].Implementation = v1alpha1.ImplementationBitcoind
	if err := k8s.Update(ctx, mixed); err == nil || !strings.Contains(err.Error(), "a group's implementation is immutable") {
		t.Errorf("changing a group's implementation: %v", err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(mixed), mixed); err != nil {
		t.Fatal(err)
	}
	mixed.Spec.Groups, mixed.Spec.Nodes = nil, ptr.To[int32](3)
	mixed.Spec.Regtest.MinerGroup = ""
	if err := k8s.Update(ctx, mixed); err == nil || !strings.Contains(err.Error(), "cannot switch between spec.groups and a single group") {
		t.Errorf("dropping spec.groups: %v", err)
	}
	// A network of one group without spec.implementation is bitcoind: it
	// cannot become btcd either.
	single := network("single-impl", nil)
	if err := k8s.Create(ctx, single); err != nil {
		t.Fatal(err)
	}
	single.Spec.Implementation = v1alpha1.ImplementationBtcd
	if err := k8s.Update(ctx, single); err == nil || !strings.Contains(err.Error(), "spec.implementation is immutable") {
		t.Errorf("setting btcd on a network created without an implementation: %v", err)
	}
}
