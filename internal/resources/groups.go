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
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// DefaultNodes is the size of a network of one group without spec.nodes.
const DefaultNodes = 3

// LabelGroup names the group of a node pod (networks with spec.groups).
const LabelGroup = "bitcoin.network-operator.dev/group"

// Group is one StatefulSet of a network's nodes, as the renderers and
// controllers see it: a group of spec.groups, or, for a network without
// them, the network itself (its one group, whose name is "").
type Group struct {
	// Name is the group's name, "" for the one group of a network
	// without spec.groups (its StatefulSet and pods keep the network's
	// name).
	Name           string
	Nodes          int32
	Implementation v1alpha1.Implementation
	Image          string
	Config         v1alpha1.NodeConfig
	Resources      corev1.ResourceRequirements
	NodeSelector   map[string]string
	Tolerations    []corev1.Toleration
	Affinity       *corev1.Affinity
}

// defaultResources are a node container's resources unless set.
func defaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("100m"),
		corev1.ResourceMemory: resource.MustParse("256Mi"),
	}}
}

// Groups are the network's groups in spec order: spec.groups, or the one
// group the single-group fields describe.
func Groups(n *v1alpha1.BitcoinNetwork) []Group {
	if len(n.Spec.Groups) == 0 {
		g := Group{
			Nodes: DefaultNodes, Implementation: n.Spec.Implementation, Image: n.Spec.Image, Config: n.Spec.Config,
			Resources: n.Spec.Resources, NodeSelector: n.Spec.NodeSelector, Tolerations: n.Spec.Tolerations, Affinity: n.Spec.Affinity,
		}
		if n.Spec.Nodes != nil {
			g.Nodes = *n.Spec.Nodes
		}
		return []Group{g.withDefaults()}
	}
	out := make([]Group, 0, len(n.Spec.Groups))
	for _, s := range n.Spec.Groups {
		out = append(out, Group{
			Name: s.Name, Nodes: s.Nodes, Implementation: s.Implementation, Image: s.Image, Config: s.Config,
			Resources: s.Resources, NodeSelector: s.NodeSelector, Tolerations: s.Tolerations, Affinity: s.Affinity,
		}.withDefaults())
	}
	return out
}

func (g Group) withDefaults() Group {
	if g.Implementation == "" {
		g.Implementation = v1alpha1.ImplementationBitcoind
	}
	if g.Resources.Requests == nil && g.Resources.Limits == nil && g.Resources.Claims == nil {
		g.Resources = defaultResources()
	}
	return g
}

// TotalNodes is the number of nodes the spec asks for, in all groups.
func TotalNodes(n *v1alpha1.BitcoinNetwork) int32 {
	var total int32
	for _, g := range Groups(n) {
		total += g.Nodes
	}
	return total
}

// HasImplementation reports whether any group of the network runs impl.
func HasImplementation(n *v1alpha1.BitcoinNetwork, impl v1alpha1.Implementation) bool {
	return slices.ContainsFunc(Groups(n), func(g Group) bool { return g.Implementation == impl })
}

// RunsBitcoinCore reports whether any group of the network runs Bitcoin
// Core or a derivative (they read credentials as rpcauth).
func RunsBitcoinCore(n *v1alpha1.BitcoinNetwork) bool {
	return slices.ContainsFunc(Groups(n), func(g Group) bool { return g.Implementation.BitcoinCore() })
}

// GroupStatefulSetName is the name of a group's StatefulSet, the prefix of
// its pods' names.
func GroupStatefulSetName(n *v1alpha1.BitcoinNetwork, g Group) string {
	if g.Name == "" {
		return n.Name
	}
	return n.Name + "-" + g.Name
}

// MinerGroup is the group whose node 0 mines a regtest network:
// spec.regtest.minerGroup, or the first group.
func MinerGroup(n *v1alpha1.BitcoinNetwork) Group {
	groups := Groups(n)
	if r := n.Spec.Regtest; r != nil && r.MinerGroup != "" {
		for _, g := range groups {
			if g.Name == r.MinerGroup {
				return g
			}
		}
	}
	return groups[0]
}

// configKey is the key of a group's node configuration in the ConfigMap
// (and, for btcd, the configuration Secret).
func configKey(g Group) string {
	if g.Name == "" {
		return configFile
	}
	return g.Name + ".conf"
}
