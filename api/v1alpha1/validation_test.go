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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// These tests send objects to a real kube-apiserver with the generated CRD,
// so they prove the OpenAPI schema, defaults and CEL rules users meet.

var k8s client.Client

func TestMain(m *testing.M) { os.Exit(envtest.Run(m, &k8s)) }

func network(name string, mutate func(*v1alpha1.BitcoinNetwork)) *v1alpha1.BitcoinNetwork {
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	n.Spec.Nodes = 3
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
	s := n.Spec
	if s.Nodes != 3 || s.Chain != v1alpha1.ChainRegtest || s.Implementation != v1alpha1.ImplementationBitcoind || s.Topology != v1alpha1.TopologyMesh {
		t.Errorf("defaults = nodes %d chain %q implementation %q topology %q, want 3 regtest bitcoind mesh",
			s.Nodes, s.Chain, s.Implementation, s.Topology)
	}
	if !s.Resources.Requests.Cpu().Equal(resource.MustParse("100m")) || !s.Resources.Requests.Memory().Equal(resource.MustParse("256Mi")) {
		t.Errorf("default requests = %v, want cpu 100m memory 256Mi", s.Resources.Requests)
	}
}

func TestZeroNodesIsKeptNotDefaulted(t *testing.T) {
	ctx := context.Background()
	n := network("zero", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = 0 })
	if err := k8s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
		t.Fatal(err)
	}
	if n.Spec.Nodes != 0 {
		t.Fatalf("spec.nodes = %d after creating with 0, want 0", n.Spec.Nodes)
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
			n.Name = strings.Repeat("a", 52)
			n.Spec.Nodes = 100
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
		{"too many nodes", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = 101 }, "spec.nodes"},
		{"regtest mining on signet", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Chain, n.Spec.Regtest = v1alpha1.ChainSignet, &v1alpha1.RegtestSpec{InitialBlocks: 101}
		}, "spec.regtest applies only to chain regtest"},
		{"too many initial blocks", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 1001} }, "spec.regtest.initialBlocks"},
		{"block interval too short", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Regtest = &v1alpha1.RegtestSpec{BlockInterval: &metav1.Duration{Duration: 100 * time.Millisecond}}
		}, "spec.regtest.blockInterval must be between 1s and 24h"},
		{"mining address with a space", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Regtest = &v1alpha1.RegtestSpec{MiningAddress: "bcrt1 q"} }, "spec.regtest.miningAddress"},
		{"negative nodes", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = -1 }, "spec.nodes"},
		{"mainnet", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Chain = "main" }, "spec.chain"},
		{"unknown implementation", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Implementation = "libbitcoin" }, "spec.implementation"},
		{"unknown topology", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Topology = "star" }, "spec.topology"},
		{"name too long", func(n *v1alpha1.BitcoinNetwork) { n.Name = strings.Repeat("a", 53) }, "at most 52 characters"},
		{"name not a DNS label", func(n *v1alpha1.BitcoinNetwork) { n.Name = "1net" }, "must start with a letter"},
		{"owned config key", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"rpcpassword": "x", "txindex": "1", "port": "1"}
		}, "spec.config.rpcpassword is owned by the operator"},
		{"owned config key port", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"port": "1"} }, "spec.config.port is owned by the operator"},
		{"negated owned key", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpcbind": "1"} },
			"spec.config.norpcbind negates rpcbind, which is owned by the operator"},
		{"negated listen", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"nolisten": "1"} },
			"spec.config.nolisten negates listen, which is owned by the operator"},
		{"negated server", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"noserver": "1"} },
			"spec.config.noserver negates server"},
		{"negated rpcallowip", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpcallowip": "1"} },
			"spec.config.norpcallowip negates rpcallowip"},
		{"negated rpccookiefile", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpccookiefile": "1"}
		},
			"spec.config.norpccookiefile negates rpccookiefile"},
		{"negated credentials", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"norpcauth": "1"} },
			"spec.config.norpcauth negates rpcauth, which is owned by the operator: remove it (credentials belong in spec.rpcSecretName)"},
		{"daemon mode", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"daemon": "1"} },
			"spec.config.daemon is owned by the operator"},
		{"network off", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"networkactive": "0"}
		},
			"spec.config.networkactive is owned by the operator"},
		{"rpc access list", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"rpcwhitelist": "bob:getblockcount"}
		},
			"spec.config.rpcwhitelist is owned by the operator"},
		{"probe target", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"rpcconnect": "10.0.0.1"}
		},
			"spec.config.rpcconnect is owned by the operator"},
		{"peer proxy", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"proxy": "127.0.0.1:9050"}
		},
			"spec.config.proxy is owned by the operator"},
		{"connect on regtest", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"connect": "10.0.0.1"}
		},
			"spec.config.connect is owned by the operator on regtest"},
		{"a debug log file on the data volume", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"debuglogfile": "/data/debug.log"}
		}, "spec.config.debuglogfile is owned by the operator"},
		{"value with a comment sign", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"uacomment": "team#1"}
		}, "spec.config.uacomment: a value cannot contain #"},
		{"maxconnections without inbound slots", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxconnections": "11"}
		}, "spec.config.maxconnections must be a number of at least 12"},
		{"maxconnections not a number", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxconnections": "many"}
		}, "spec.config.maxconnections must be a number of at least 12"},
		{"maxconnections negated", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"nomaxconnections": "1"}
		}, "spec.config.maxconnections must be a number of at least 12"},
		{"config key with dash", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"no-dash": "1"} }, "spec.config keys must be option names"},
		{"config section injection", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"[main]": "1"} }, "spec.config keys must be option names"},
		{"multi-line config value", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1\nrpcallowip=0.0.0.0/0"}
		}, "spec.config values must be a single line"},
		{"too long config value", func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Config = map[string]v1alpha1.ConfigValue{"uacomment": v1alpha1.ConfigValue(strings.Repeat("x", 1025))}
		}, "spec.config.uacomment"},
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
	n.Spec.Nodes, n.Spec.Topology, n.Spec.Storage.WhenScaled = 5, v1alpha1.TopologyRing, "Delete"
	n.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	if err := k8s.Update(ctx, n); err != nil {
		t.Fatalf("updating mutable fields: %v", err)
	}
}
