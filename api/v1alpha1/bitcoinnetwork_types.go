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

package v1alpha1

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Chain is the bitcoin test chain a network runs.
// +kubebuilder:validation:Enum=regtest;signet;testnet3;testnet4
type Chain string

const (
	// ChainRegtest is a private chain whose blocks are mined on demand.
	ChainRegtest Chain = "regtest"
	// ChainSignet is the public signet, whose blocks are signed by a fixed key.
	ChainSignet Chain = "signet"
	// ChainTestnet3 is the public test network, version 3.
	ChainTestnet3 Chain = "testnet3"
	// ChainTestnet4 is the public test network, version 4 (BIP94).
	ChainTestnet4 Chain = "testnet4"
)

// Implementation is the bitcoin node software a network runs.
// +kubebuilder:validation:Enum=bitcoind;btcd;knots
type Implementation string

const (
	// ImplementationBitcoind is Bitcoin Core.
	ImplementationBitcoind Implementation = "bitcoind"
	// ImplementationBtcd is btcd, the full node written in Go.
	ImplementationBtcd Implementation = "btcd"
	// ImplementationKnots is Bitcoin Knots, a derivative of Bitcoin Core
	// with its own relay policy: Core's configuration, RPC and bitcoind
	// command.
	ImplementationKnots Implementation = "knots"
)

// BitcoinCore reports whether the implementation is Bitcoin Core or a
// derivative of it (its configuration file, RPC and command); the empty
// implementation is Bitcoin Core.
func (i Implementation) BitcoinCore() bool { return i != ImplementationBtcd }

// Topology is the shape of the peer-to-peer graph the operator maintains.
// +kubebuilder:validation:Enum=mesh;ring;none
type Topology string

const (
	// TopologyMesh connects every pair of nodes (bounded degree above 17 nodes).
	TopologyMesh Topology = "mesh"
	// TopologyRing connects each node to its successor.
	TopologyRing Topology = "ring"
	// TopologyNone leaves peering to the user.
	TopologyNone Topology = "none"
)

// NetworkPolicyMode says whether the operator isolates a network's nodes.
// +kubebuilder:validation:Enum=Enabled;Disabled
type NetworkPolicyMode string

const (
	// NetworkPolicyEnabled: a NetworkPolicy admits only the network's own
	// P2P traffic and the operator's RPC calls to the nodes.
	NetworkPolicyEnabled NetworkPolicyMode = "Enabled"
	// NetworkPolicyDisabled: the operator creates no NetworkPolicy (and
	// removes the one it created).
	NetworkPolicyDisabled NetworkPolicyMode = "Disabled"
)

// ConfigValue is the value of one extra node configuration option.
// +kubebuilder:validation:MaxLength=1024
type ConfigValue string

// NodeConfig holds extra node configuration options (bitcoin.conf or
// btcd.conf `key=value` lines), for example `txindex: "1"`. Keys the
// operator sets itself (RPC credentials, endpoints and access lists,
// ports and listen addresses, the proxy its peer connections would go
// through, data directories, the debug log file and config files, chain
// selection, TLS, daemon mode; on regtest also connect) are rejected, and
// so is their negation (`no<option>`, which Bitcoin Core reads as
// option=0). Values are one line without `#` (Bitcoin Core cuts a line at
// `#`); Core reads booleans as numbers, so write 1 or 0, not true or false.
// On bitcoind, `maxconnections` must leave room for inbound peers: at
// least 12.
// +kubebuilder:validation:MaxProperties=64
// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 64 && k.matches('^[a-z][a-z0-9]*$'))",message="config keys must be option names: lowercase letters and digits, starting with a letter, at most 64 characters"
// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'] || (k.startsWith('no') && k.substring(2) in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'])))",messageExpression="'config.' + self.filter(k, (k in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'] || (k.startsWith('no') && k.substring(2) in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'])))[0] + (self.filter(k, (k in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'] || (k.startsWith('no') && k.substring(2) in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'])))[0] in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'] ? ' is' : ' negates ' + self.filter(k, (k in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'] || (k.startsWith('no') && k.substring(2) in ['rpcuser', 'rpcpassword', 'rpcpass', 'rpcauth', 'rpclimituser', 'rpclimitpass'])))[0].substring(2) + ', which is') + ' owned by the operator: remove it (credentials belong in spec.rpcSecretName)'"
// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'] || (k.startsWith('no') && k.substring(2) in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'])))",messageExpression="'config.' + self.filter(k, (k in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'] || (k.startsWith('no') && k.substring(2) in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'])))[0] + (self.filter(k, (k in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'] || (k.startsWith('no') && k.substring(2) in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'])))[0] in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'] ? ' is' : ' negates ' + self.filter(k, (k in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'] || (k.startsWith('no') && k.substring(2) in ['rpcport', 'rpcbind', 'rpcallowip', 'rpcconnect', 'rpcwhitelist', 'rpcwhitelistdefault', 'rpclisten', 'rpccert', 'rpckey', 'rpccookiefile', 'port', 'bind', 'whitebind', 'listen', 'proxy', 'networkactive', 'server', 'norpc', 'notls', 'daemon', 'daemonwait', 'datadir', 'blocksdir', 'appdata', 'logdir', 'debuglogfile', 'conf', 'configfile', 'includeconf', 'chain', 'regtest', 'signet', 'testnet', 'testnet4', 'simnet'])))[0].substring(2) + ', which is') + ' owned by the operator: remove it (the operator sets it)'"
// +kubebuilder:validation:XValidation:rule="self.all(k, !self[k].contains('\\n') && !self[k].contains('\\r'))",message="config values must be a single line"
// +kubebuilder:validation:XValidation:rule="self.all(k, !self[k].contains('#'))",messageExpression="'config.' + self.filter(k, self[k].contains('#'))[0] + ': a value cannot contain #, which starts a comment in the node configuration file and would cut the value there'"
// +kubebuilder:validation:XValidation:rule="!('nomaxconnections' in self) && (!('maxconnections' in self) || (self['maxconnections'].matches('^[0-9]{1,9}$') && int(self['maxconnections']) >= 12))",message="config.maxconnections must be a number of at least 12: Bitcoin Core keeps 11 connections for its own outbound peers and accepts inbound peers only beyond that, so the network's planned connections could not come up"
type NodeConfig map[string]ConfigValue

// BitcoinNetworkSpec is the desired state of a network of bitcoin nodes.
//
// +kubebuilder:validation:XValidation:rule="!has(self.regtest) || self.chain == 'regtest'",message="spec.regtest applies only to chain regtest: remove it, or set spec.chain to regtest"
// +kubebuilder:validation:XValidation:rule="!has(self.signet) || self.chain == 'signet'",message="spec.signet applies only to chain signet: remove it, or set spec.chain to signet"
// +kubebuilder:validation:XValidation:rule="!has(self.signet) || ((!has(self.implementation) || self.implementation != 'btcd') && (!has(self.groups) || self.groups.all(g, !has(g.implementation) || g.implementation != 'btcd')))",message="spec.signet: btcd does not check signet block signatures, so it cannot run a private signet; use bitcoind or knots"
// +kubebuilder:validation:XValidation:rule="self.chain != 'regtest' || !has(self.config) || !('connect' in self.config)",message="spec.config.connect is owned by the operator on regtest: it renders connect=0, so that nodes connect only to their planned peers; remove it"
// +kubebuilder:validation:XValidation:rule="self.chain != 'regtest' || !has(self.groups) || self.groups.all(g, !has(g.config) || !('connect' in g.config))",message="spec.groups[].config.connect is owned by the operator on regtest: it renders connect=0, so that nodes connect only to their planned peers; remove it"
// +kubebuilder:validation:XValidation:rule="!has(self.groups) || (!has(self.nodes) && !has(self.implementation) && !has(self.image) && !has(self.config) && (!has(self.resources) || (!has(self.resources.limits) && !has(self.resources.requests) && !has(self.resources.claims))) && !has(self.nodeSelector) && !has(self.tolerations) && !has(self.affinity))",message="spec.groups replaces spec.nodes, implementation, image, config, resources, nodeSelector, tolerations and affinity: set them on each group, or remove spec.groups"
// +kubebuilder:validation:XValidation:rule="has(self.groups) == has(oldSelf.groups)",message="a network cannot switch between spec.groups and a single group (spec.nodes): its StatefulSets would be replaced; create a new BitcoinNetwork instead"
// +kubebuilder:validation:XValidation:rule="!has(self.groups) || self.groups.map(g, g.nodes).sum() <= 1000",message="spec.groups: at most 1000 nodes in all"
// +kubebuilder:validation:XValidation:rule="(has(self.implementation) ? self.implementation : 'bitcoind') == (has(oldSelf.implementation) ? oldSelf.implementation : 'bitcoind')",message="spec.implementation is immutable: create a new BitcoinNetwork to run another implementation"
// +kubebuilder:validation:XValidation:rule="!has(self.regtest) || !has(self.regtest.minerGroup) || (has(self.groups) && self.groups.exists(g, g.name == self.regtest.minerGroup))",message="spec.regtest.minerGroup must name one of spec.groups"
// +kubebuilder:validation:XValidation:rule="has(self.storage) == has(oldSelf.storage)",message="spec.storage cannot be added or removed after creation: a StatefulSet's volumes are fixed; create a new BitcoinNetwork instead"
type BitcoinNetworkSpec struct {
	// Nodes is the number of bitcoin nodes of a network of one group
	// (default 3). 0 stops every node but keeps the configuration,
	// credentials and volumes, so scaling up again resumes the same chain.
	// With spec.groups each group says its own.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Nodes",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:podCount"}
	Nodes *int32 `json:"nodes,omitempty"`

	// Chain is the test chain the nodes run. Mainnet is deliberately not
	// offered: this operator runs test networks. Immutable.
	// +kubebuilder:default=regtest
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.chain is immutable: create a new BitcoinNetwork to run another chain"
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Chain",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:select:regtest","urn:alm:descriptor:com.tectonic.ui:select:signet","urn:alm:descriptor:com.tectonic.ui:select:testnet3","urn:alm:descriptor:com.tectonic.ui:select:testnet4"}
	Chain Chain `json:"chain,omitempty"`

	// Implementation is the node software of a network of one group:
	// bitcoind (Bitcoin Core, the default), knots (Bitcoin Knots) or btcd.
	// Each runs every chain offered here. Immutable. With spec.groups each
	// group says its own.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Implementation",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:select:bitcoind","urn:alm:descriptor:com.tectonic.ui:select:knots","urn:alm:descriptor:com.tectonic.ui:select:btcd"}
	Implementation Implementation `json:"implementation,omitempty"`

	// Image is the node container image. When empty, the operator uses the
	// image it was installed with for the implementation (its
	// RELATED_IMAGE_BITCOIND, RELATED_IMAGE_KNOTS or RELATED_IMAGE_BTCD
	// setting). The image must provide the `bitcoind` (or `btcd`) command
	// on its PATH.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Node Image",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text","urn:alm:descriptor:com.tectonic.ui:advanced"}
	Image string `json:"image,omitempty"`

	// Topology is the shape of the peer-to-peer network the operator wires
	// and keeps: mesh (every node reaches every other directly, with bounded
	// degree for large networks), ring (each node peers with its successor)
	// or none (the operator adds no peers and removes none).
	// +kubebuilder:default=mesh
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Topology",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:select:mesh","urn:alm:descriptor:com.tectonic.ui:select:ring","urn:alm:descriptor:com.tectonic.ui:select:none"}
	Topology Topology `json:"topology,omitempty"`

	// PeerCheckInterval is how often the operator verifies every node's
	// peers over RPC and repairs missing connections (e.g. after a node
	// restarts). Pod readiness changes trigger a check at once. Default 30s.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('5s') && duration(self) <= duration('1h')",message="spec.peerCheckInterval must be between 5s and 1h"
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Peer Check Interval",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text","urn:alm:descriptor:com.tectonic.ui:advanced"}
	PeerCheckInterval *metav1.Duration `json:"peerCheckInterval,omitempty"`

	// RPCSecretName names an existing Secret in the same namespace with the
	// keys `rpcuser` and `rpcpassword`, used for the nodes' JSON-RPC. When
	// empty, the operator generates a Secret named `<name>-rpc` once (user
	// `bitcoin`, a random password) and never rewrites it.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="RPC Secret",xDescriptors={"urn:alm:descriptor:io.kubernetes:Secret"}
	RPCSecretName string `json:"rpcSecretName,omitempty"`

	// Storage gives each node a PersistentVolumeClaim. When absent, nodes keep
	// their chain in an emptyDir volume that is lost when the pod goes away,
	// which suits regtest. Cannot be added or removed after creation.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Storage",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:storage"}
	Storage *StorageSpec `json:"storage,omitempty"`

	// Resources are the compute resources of each node container
	// (default: requests of 100m CPU and 256Mi memory).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Resources",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:resourceRequirements"}
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// NodeSelector constrains the Kubernetes nodes the bitcoin nodes run on.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Node Selector",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations of the node pods.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(t, !has(t.operator) || t.operator != 'Exists' || !has(t.value) || t.value == '')",message="spec.tolerations: a toleration with operator Exists matches every value of its key and must not set one"
	// +optional
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Tolerations",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// Affinity of the node pods.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Affinity",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// NetworkPolicy isolates the nodes (Enabled, the default): a
	// NetworkPolicy admits P2P connections only from this network's nodes
	// and RPC connections only from the operator's pods; connections the
	// nodes open are not restricted. Disabled leaves traffic to the cluster's
	// other policies (e.g. to reach the nodes' RPC from elsewhere). It takes
	// effect where the cluster's network plugin enforces NetworkPolicies.
	// +kubebuilder:default=Enabled
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Network Policy",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:select:Enabled","urn:alm:descriptor:com.tectonic.ui:select:Disabled","urn:alm:descriptor:com.tectonic.ui:advanced"}
	NetworkPolicy NetworkPolicyMode `json:"networkPolicy,omitempty"`

	// Access admits clients to the nodes through the network's
	// NetworkPolicy, without turning the isolation off: pods that use the
	// nodes' RPC (a wallet, an indexer, a Lightning node) and pods that
	// connect to their P2P port. It has no effect with networkPolicy
	// Disabled (there is no policy then).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Client Access",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Access *AccessSpec `json:"access,omitempty"`

	// Config holds extra node configuration options of a network of one
	// group (see NodeConfig); with spec.groups each group has its own.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Extra Node Options",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Config NodeConfig `json:"config,omitempty"`

	// Groups run different node software side by side in one network
	// (Bitcoin Core releases, Knots, btcd): each group is a StatefulSet
	// `<name>-<group>` of nodes of one implementation and image, and one
	// topology connects the nodes of every group. Instead of spec.nodes,
	// implementation, image, config, resources and scheduling. At most 8
	// groups and 1000 nodes.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=name
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Node Groups"
	Groups []NodeGroup `json:"groups,omitempty"`

	// Regtest sets up a regtest chain worth testing on: blocks mined once
	// the nodes are connected, to an address whose key the operator keeps
	// in a Secret (or to miningAddress), and optionally a block at a fixed
	// interval. Only with chain regtest.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Regtest Mining",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:regtest"}
	Regtest *RegtestSpec `json:"regtest,omitempty"`

	// Signet makes the network a private signet (BIP 325) whose blocks the
	// operator signs and mines at blockInterval: a chain with real
	// difficulty rules on which only the challenge's key can mine. Only
	// with chain signet; without it a signet network joins the public
	// signet. Not with btcd, which does not check signet block signatures.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Private Signet",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:signet"}
	Signet *SignetSpec `json:"signet,omitempty"`
}

// NodeGroup is a set of nodes that run the same software: one StatefulSet.
// +kubebuilder:validation:XValidation:rule="self.implementation == oldSelf.implementation",message="a group's implementation is immutable: add a group with the other implementation instead"
type NodeGroup struct {
	// Name of the group, a DNS label: its StatefulSet is
	// `<network>-<name>` and its pods `<network>-<name>-<ordinal>`, so the
	// network's and the group's names together have at most 51 characters.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Name",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	Name string `json:"name"`
	// Nodes is the number of nodes of the group; 0 stops them and keeps
	// their volumes.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Nodes",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:podCount"}
	Nodes int32 `json:"nodes"`
	// Implementation is the group's node software: bitcoind (Bitcoin Core,
	// any release, by image), knots (Bitcoin Knots) or btcd. Immutable.
	// +kubebuilder:default=bitcoind
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Implementation",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:select:bitcoind","urn:alm:descriptor:com.tectonic.ui:select:knots","urn:alm:descriptor:com.tectonic.ui:select:btcd"}
	Implementation Implementation `json:"implementation,omitempty"`
	// Image is the group's node image; the operator's default for the
	// implementation when empty. Changing it rolls this group only, one
	// node at a time: an upgrade in place.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Image",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	Image string `json:"image,omitempty"`
	// Config holds the group's extra node options (see NodeConfig).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Node Options",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Config NodeConfig `json:"config,omitempty"`
	// Resources of each node container of the group.
	// +kubebuilder:default={requests:{cpu:"100m",memory:"256Mi"}}
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Resources",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:resourceRequirements"}
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// NodeSelector constrains the Kubernetes nodes the group runs on.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Node Selector",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations of the group's pods.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(t, !has(t.operator) || t.operator != 'Exists' || !has(t.value) || t.value == '')",message="tolerations: a toleration with operator Exists matches every value of its key and must not set one"
	// +optional
	// +listType=atomic
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Tolerations",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Affinity of the group's pods.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Group Affinity",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:advanced"}
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
}

// RegtestSpec is how the operator mines a regtest chain.
type RegtestSpec struct {
	// InitialBlocks is the chain height the operator mines to on node 0 (of
	// spec.regtest.minerGroup),
	// once, when every planned connection is first up. 101 makes the first
	// block's coinbase spendable. A chain already at least this high is
	// left alone.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Initial Blocks",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:regtest","urn:alm:descriptor:com.tectonic.ui:number"}
	InitialBlocks int32 `json:"initialBlocks,omitempty"`

	// BlockInterval, when set, has the operator mine one block at this
	// interval while the network's planned connections are up, for a chain
	// that moves. Between 1s and 24h.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('24h')",message="spec.regtest.blockInterval must be between 1s and 24h"
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Block Interval",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:regtest","urn:alm:descriptor:com.tectonic.ui:text"}
	BlockInterval *metav1.Duration `json:"blockInterval,omitempty"`

	// MiningAddress is the regtest address blocks pay to. When empty, the
	// operator generates a key once and keeps it in the Secret
	// `<name>-miner` (keys privateKey (WIF), address and descriptor).
	// +kubebuilder:validation:MaxLength=90
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]+$`
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Mining Address",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:regtest","urn:alm:descriptor:com.tectonic.ui:text"}
	MiningAddress string `json:"miningAddress,omitempty"`
	// MinerGroup names the group whose node 0 mines (spec.groups only);
	// default the first group.
	// +kubebuilder:validation:MaxLength=40
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Miner Group",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:regtest","urn:alm:descriptor:com.tectonic.ui:text"}
	MinerGroup string `json:"minerGroup,omitempty"`
}

// SignetSpec is a private signet: its challenge, who signs, and the pace.
// +kubebuilder:validation:XValidation:rule="!has(self.keySecretName) || has(self.challenge)",message="spec.signet.keySecretName names the key of a challenge of your own: set spec.signet.challenge too, or remove it to have the operator make a key"
type SignetSpec struct {
	// Challenge is the script (hex) a block's signature must satisfy,
	// which also names the chain. Empty: the operator makes a key once and
	// keeps it in the Secret `<name>-signet` (privateKey (WIF), publicKey,
	// challenge, address, descriptor); the challenge is then 1-of-1
	// multisig of that key. Immutable.
	// +kubebuilder:validation:MaxLength=1040
	// +kubebuilder:validation:Pattern=`^([0-9a-f]{2})+$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.signet.challenge is immutable: it names the chain"
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Challenge",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:signet","urn:alm:descriptor:com.tectonic.ui:text"}
	Challenge string `json:"challenge,omitempty"`
	// KeySecretName names a Secret whose key privateKey (WIF) signs for a
	// challenge of your own (a 1-of-1 multisig of its key). Without it the
	// operator makes no blocks for such a challenge, and says so.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Key Secret",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:signet","urn:alm:descriptor:io.kubernetes:Secret"}
	KeySecretName string `json:"keySecretName,omitempty"`
	// BlockInterval is how often the operator makes a block (default 30s,
	// 1s–1h). Below Bitcoin Core's 10 minutes the difficulty rises 4x every
	// 2016 blocks: see the README.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('1h')",message="spec.signet.blockInterval must be between 1s and 1h"
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Block Interval",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:signet","urn:alm:descriptor:com.tectonic.ui:text"}
	BlockInterval *metav1.Duration `json:"blockInterval,omitempty"`
	// InitialBlocks is the height the operator makes blocks to at once,
	// when every planned connection is first up (default 101: the first
	// coinbase spendable).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Initial Blocks",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:signet","urn:alm:descriptor:com.tectonic.ui:number"}
	InitialBlocks *int32 `json:"initialBlocks,omitempty"`
}

// StorageSpec describes the persistent volume of each node.
//
// A transition rule on an optional field is not evaluated when the field is
// absent on either side, so the storage class is held here, where adding or
// removing it is seen too.
// +kubebuilder:validation:XValidation:rule="has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",message="spec.storage.storageClassName is immutable: it cannot be added, removed or changed (a StatefulSet's volume claims are fixed); create a new BitcoinNetwork instead"
type StorageSpec struct {
	// Size of each node's volume, for example 10Gi. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.storage.size is immutable"
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Volume Size",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:storage","urn:alm:descriptor:com.tectonic.ui:text"}
	Size resource.Quantity `json:"size"`

	// StorageClassName of the volumes; empty uses the cluster's default
	// class. Immutable: it cannot be added, removed or changed.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Storage Class",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:storage","urn:alm:descriptor:io.kubernetes:StorageClass"}
	StorageClassName *string `json:"storageClassName,omitempty"`

	// WhenDeleted says what happens to the volumes when the network is
	// deleted: Retain (default) keeps them, Delete removes them.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Volumes When Deleted",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:storage","urn:alm:descriptor:com.tectonic.ui:select:Retain","urn:alm:descriptor:com.tectonic.ui:select:Delete"}
	WhenDeleted appsv1.PersistentVolumeClaimRetentionPolicyType `json:"whenDeleted,omitempty"`

	// WhenScaled says what happens to the volumes of nodes removed by
	// scaling down: Retain (default) keeps them for a later scale up,
	// Delete removes them.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Volumes When Scaled Down",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:fieldGroup:storage","urn:alm:descriptor:com.tectonic.ui:select:Retain","urn:alm:descriptor:com.tectonic.ui:select:Delete"}
	WhenScaled appsv1.PersistentVolumeClaimRetentionPolicyType `json:"whenScaled,omitempty"`
}

// NodeStatus is the observed state of one bitcoin node.
type NodeStatus struct {
	// Name of the node's pod.
	Name string `json:"name"`
	// Ordinal of the node in the StatefulSet (0, 1, …).
	Ordinal int32 `json:"ordinal"`
	// Ready is true when the node's pod is Ready.
	Ready bool `json:"ready"`
	// IP is the pod's IP address.
	// +optional
	IP string `json:"ip,omitempty"`
	// NodeName is the Kubernetes node the pod runs on.
	// +optional
	NodeName string `json:"nodeName,omitempty"`
	// DNSName is the stable DNS name of the node through the network's
	// headless Service.
	// +optional
	DNSName string `json:"dnsName,omitempty"`
	// Peers is the number of live peer connections of the node.
	// +optional
	Peers int32 `json:"peers"`
	// ExpectedPeers is the number of connections the topology plans for
	// the node (to and from it).
	// +optional
	ExpectedPeers int32 `json:"expectedPeers"`
	// BlockHeight is the height of the node's best chain.
	// +optional
	BlockHeight int64 `json:"blockHeight,omitempty"`
	// BestBlockHash is the hash of the node's best block.
	// +optional
	BestBlockHash string `json:"bestBlockHash,omitempty"`
	// Headers is the height of the best header chain the node knows.
	// +optional
	Headers int64 `json:"headers,omitempty"`
	// InitialBlockDownload is true while the node considers itself
	// catching up (Bitcoin Core reports it; btcd does not).
	// +optional
	InitialBlockDownload *bool `json:"initialBlockDownload,omitempty"`
	// UserAgent is the node's software and version, e.g.
	// /Satoshi:29.3.0/.
	// +optional
	UserAgent string `json:"userAgent,omitempty"`
	// Group is the node's group (spec.groups); empty for a network of one
	// group.
	// +optional
	Group string `json:"group,omitempty"`
	// MempoolTransactions is the number of transactions in the node's
	// mempool: where relay policies differ, mempools part.
	// +optional
	MempoolTransactions *int64 `json:"mempoolTransactions,omitempty"`
	// Message is the last RPC error talking to the node, if any.
	// +optional
	Message string `json:"message,omitempty"`
}

// MiningStatus is what the operator mined on a regtest network.
type MiningStatus struct {
	// Address the operator mines to.
	Address string `json:"address"`
	// MinerSecretName is the Secret holding the address's key, when the
	// operator generated it.
	// +optional
	MinerSecretName string `json:"minerSecretName,omitempty"`
	// InitialBlocksHeight is the chain height the initial blocks reached,
	// recorded once: the operator never mines them again.
	// +optional
	InitialBlocksHeight int64 `json:"initialBlocksHeight,omitempty"`
	// LastBlockHeight is the height of the last block the operator mined.
	// +optional
	LastBlockHeight int64 `json:"lastBlockHeight,omitempty"`
	// Node is the node that mines (node 0 of spec.regtest.minerGroup).
	// +optional
	Node string `json:"node,omitempty"`
	// LastBlockTime is when the operator last mined a block.
	// +optional
	LastBlockTime *metav1.Time `json:"lastBlockTime,omitempty"`
}

// Condition types of a BitcoinNetwork.
const (
	// ConditionReady is True when every requested node is ready and runs
	// the current configuration.
	ConditionReady = "Ready"
	// ConditionProgressing is True while nodes are being created, scaled or
	// rolled to a new configuration.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when the operator cannot bring the network
	// to its spec; the message names the cause and the fix.
	ConditionDegraded = "Degraded"
	// ConditionPeersConnected is True when every connection the topology
	// plans between the nodes is up.
	ConditionPeersConnected = "PeersConnected"
	// ConditionInSync is True when every ready node has the same best
	// block; False names the nodes and heights that differ.
	ConditionInSync = "InSync"
)

// GroupStatus is the observed state of one group of nodes.
type GroupStatus struct {
	// Name of the group.
	Name string `json:"name"`
	// Implementation and Image the group runs.
	Implementation Implementation `json:"implementation"`
	// +optional
	Image string `json:"image,omitempty"`
	// DesiredNodes, CurrentNodes and ReadyNodes count the group's nodes.
	DesiredNodes int32 `json:"desiredNodes"`
	CurrentNodes int32 `json:"currentNodes"`
	ReadyNodes   int32 `json:"readyNodes"`
	// UserAgents are the versions its nodes report, each once.
	// +optional
	// +listType=set
	UserAgents []string `json:"userAgents,omitempty"`
	// RPCPort and P2PPort are the group's nodes' ports.
	// +optional
	RPCPort int32 `json:"rpcPort,omitempty"`
	// +optional
	P2PPort int32 `json:"p2pPort,omitempty"`
}

// AccessSpec lists the clients admitted to the nodes, as NetworkPolicy
// peers: a pod selector, a namespace selector (both: those pods in those
// namespaces) or an IP block.
type AccessSpec struct {
	// RPCFrom are admitted to the nodes' RPC port, besides the operator.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(p, has(p.podSelector) || has(p.namespaceSelector) || has(p.ipBlock))",message="spec.access.rpcFrom: each peer sets podSelector, namespaceSelector or ipBlock"
	// +kubebuilder:validation:XValidation:rule="self.all(p, !has(p.ipBlock) || !(has(p.podSelector) || has(p.namespaceSelector)))",message="spec.access.rpcFrom: a peer with ipBlock sets no selector (as in a NetworkPolicy)"
	// +optional
	// +listType=atomic
	RPCFrom []networkingv1.NetworkPolicyPeer `json:"rpcFrom,omitempty"`
	// P2PFrom are admitted to the nodes' P2P port, besides the network's
	// own nodes.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(p, has(p.podSelector) || has(p.namespaceSelector) || has(p.ipBlock))",message="spec.access.p2pFrom: each peer sets podSelector, namespaceSelector or ipBlock"
	// +kubebuilder:validation:XValidation:rule="self.all(p, !has(p.ipBlock) || !(has(p.podSelector) || has(p.namespaceSelector)))",message="spec.access.p2pFrom: a peer with ipBlock sets no selector (as in a NetworkPolicy)"
	// +optional
	// +listType=atomic
	P2PFrom []networkingv1.NetworkPolicyPeer `json:"p2pFrom,omitempty"`
}

// EndpointsStatus says how a client in the cluster reaches the nodes.
type EndpointsStatus struct {
	// Service is the DNS name of the network's headless Service: each node
	// answers at <pod>.<service> (status.nodes[].dnsName), on its group's
	// ports (status.groups[].rpcPort, p2pPort).
	Service string `json:"service"`
	// RPC and P2P are the first node's addresses (host:port), for a
	// client that needs one node.
	RPC string `json:"rpc"`
	P2P string `json:"p2p"`
	// TLSCASecret names the Secret whose ca.crt signed the RPC
	// certificates of btcd nodes (btcd serves RPC over TLS only); empty
	// when the network has no btcd node.
	// +optional
	TLSCASecret string `json:"tlsCASecret,omitempty"`
}

// BitcoinNetworkStatus is the observed state of a network.
type BitcoinNetworkStatus struct {
	// DesiredNodes is the number of nodes the spec asks for, in all groups.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Desired Nodes",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:podCount"}
	DesiredNodes int32 `json:"desiredNodes,omitempty"`
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Observed Generation",xDescriptors={"urn:alm:descriptor:text"}
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// CurrentNodes is the number of node pods that exist.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Current Nodes",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:podCount"}
	CurrentNodes int32 `json:"currentNodes"`

	// ReadyNodes is the number of node pods that are ready.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Ready Nodes",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:podCount"}
	ReadyNodes int32 `json:"readyNodes"`

	// Selector is the label selector of the node pods (for the scale
	// subresource and `kubectl get pods -l`).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Pod Selector",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:selector:core:v1:Pod"}
	Selector string `json:"selector,omitempty"`

	// RPCSecretName is the Secret holding the nodes' RPC credentials: the
	// one named in spec.rpcSecretName, or the one the operator generated.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="RPC Secret",xDescriptors={"urn:alm:descriptor:io.kubernetes:Secret"}
	RPCSecretName string `json:"rpcSecretName,omitempty"`

	// Endpoints say how a client in the cluster reaches the nodes (the
	// NetworkPolicy admits it when spec.access names it).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Endpoints",xDescriptors={"urn:alm:descriptor:text"}
	Endpoints *EndpointsStatus `json:"endpoints,omitempty"`

	// Conditions describe the network: Ready, Progressing, Degraded,
	// PeersConnected and InSync.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Conditions",xDescriptors={"urn:alm:descriptor:io.kubernetes.conditions"}
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// PeerAddresses are the P2P addresses the operator has given this
	// network's nodes as peers and has not yet seen gone from all of them.
	// An address of a node that went away is removed from every node that
	// still lists it, even after its IP was given to another pod.
	// +optional
	// +listType=set
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Peer Addresses",xDescriptors={"urn:alm:descriptor:text"}
	PeerAddresses []string `json:"peerAddresses,omitempty"`

	// TipHeight is the height of the best block any node reports.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Tip Height",xDescriptors={"urn:alm:descriptor:text"}
	TipHeight int64 `json:"tipHeight,omitempty"`

	// TipHash is the hash of that block.
	// +optional
	TipHash string `json:"tipHash,omitempty"`

	// TipDifficulty is that block's difficulty (a decimal, as the node
	// reports it: 1 is the easiest block of mainnet; a private signet
	// starts at about 0.001).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Tip Difficulty",xDescriptors={"urn:alm:descriptor:text"}
	TipDifficulty string `json:"tipDifficulty,omitempty"`

	// Mining is what the operator mined (spec.regtest).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Mining",xDescriptors={"urn:alm:descriptor:text"}
	Mining *MiningStatus `json:"mining,omitempty"`

	// Groups is the state of each group of nodes (spec.groups; for a
	// network of one group, that group).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Groups",xDescriptors={"urn:alm:descriptor:text"}
	Groups []GroupStatus `json:"groups,omitempty"`
	// Nodes is the state of each node, by ordinal.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Nodes",xDescriptors={"urn:alm:descriptor:text"}
	Nodes []NodeStatus `json:"nodes,omitempty"`
}

// BitcoinNetwork is a network of bitcoin nodes on a test chain (regtest,
// signet or testnet), wired into a peer-to-peer network by the operator.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.nodes,statuspath=.status.currentNodes,selectorpath=.status.selector
// +kubebuilder:resource:shortName=btcnet,categories=bitcoin
// +kubebuilder:printcolumn:name="Chain",type=string,JSONPath=`.spec.chain`
// +kubebuilder:printcolumn:name="Nodes",type=integer,JSONPath=`.status.desiredNodes`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyNodes`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Height",type=integer,JSONPath=`.status.tipHeight`
// +kubebuilder:printcolumn:name="InSync",type=string,JSONPath=`.status.conditions[?(@.type=="InSync")].status`
// +kubebuilder:printcolumn:name="Peers",type=string,JSONPath=`.status.conditions[?(@.type=="PeersConnected")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 52",message="metadata.name must be at most 52 characters, so that pod names and controller-revision labels derived from it stay within 63"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.groups) || self.spec.groups.all(g, self.metadata.name.size() + g.name.size() <= 51)",message="metadata.name and a group's name together must have at most 51 characters, so that the group's StatefulSet (<network>-<group>) and pod names stay within 63"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must start with a letter and contain only lowercase letters, digits and '-', because it also names the network's Service"
// +operator-sdk:csv:customresourcedefinitions:displayName="Bitcoin Network",resources={{StatefulSet,v1,""},{Service,v1,""},{ConfigMap,v1,""},{Secret,v1,""},{Pod,v1,""},{Event,v1,""}}
type BitcoinNetwork struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired network.
	// +kubebuilder:default={}
	// +optional
	Spec BitcoinNetworkSpec `json:"spec,omitempty"`

	// Status is the network as the operator last observed it.
	// +optional
	Status BitcoinNetworkStatus `json:"status,omitempty"`
}

// BitcoinNetworkList is a list of BitcoinNetworks.
//
// +kubebuilder:object:root=true
type BitcoinNetworkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BitcoinNetwork `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BitcoinNetwork{}, &BitcoinNetworkList{})
}
