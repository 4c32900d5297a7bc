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

// Package fault resolves a BitcoinNetworkFault against its network: which
// node is on which side. Pure functions; the controllers enforce.
package fault

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

// Node is a planned node of a network: its name (the pod's), its group's
// name ("" in a network without spec.groups) and its global index (the
// planner's, group after group).
type Node struct {
	Name  string
	Group string
	Index int
}

// Nodes lists a network's planned nodes in global index order.
func Nodes(n *v1alpha1.BitcoinNetwork) []Node {
	var out []Node
	for _, g := range resources.Groups(n) {
		prefix := resources.GroupStatefulSetName(n, g)
		for i := int32(0); i < g.Nodes; i++ {
			out = append(out, Node{Name: prefix + "-" + strconv.Itoa(int(i)), Group: g.Name, Index: len(out)})
		}
	}
	return out
}

// Sides resolves a fault's spec to the sides it keeps apart, each a list of
// node names in index order. A partition's nodes named on no side form one
// more side (last); an isolated node is a side of its own, and the rest
// one side. An error names the field and what is wrong with it.
func Sides(spec v1alpha1.BitcoinNetworkFaultSpec, n *v1alpha1.BitcoinNetwork) ([][]string, error) {
	nodes := Nodes(n)
	byName := map[string]Node{}
	for _, node := range nodes {
		byName[node.Name] = node
	}
	side := map[string]int{}
	var count int
	place := func(field, name string, s int) error {
		if other, ok := side[name]; ok && other != s {
			return fmt.Errorf("%s: node %s is on two sides", field, name)
		}
		side[name] = s
		return nil
	}
	switch {
	case spec.Partition != nil:
		count = len(spec.Partition.Sides)
		for s, fs := range spec.Partition.Sides {
			field := fmt.Sprintf("spec.partition.sides[%d]", s)
			for _, name := range fs.Nodes {
				if _, ok := byName[name]; !ok {
					return nil, fmt.Errorf("%s.nodes: %s is not a node of network %s (%s)", field, name, n.Name, describe(nodes))
				}
				if err := place(field+".nodes", name, s); err != nil {
					return nil, err
				}
			}
			for _, group := range fs.Groups {
				found := false
				for _, node := range nodes {
					if node.Group == group && group != "" {
						found = true
						if err := place(field+".groups", node.Name, s); err != nil {
							return nil, err
						}
					}
				}
				if !found && !slices.ContainsFunc(n.Spec.Groups, func(g v1alpha1.NodeGroup) bool { return g.Name == group }) {
					return nil, fmt.Errorf("%s.groups: %s is not a group of network %s", field, group, n.Name)
				}
			}
		}
	case spec.Isolate != nil:
		count = len(spec.Isolate.Nodes)
		for s, name := range spec.Isolate.Nodes {
			if _, ok := byName[name]; !ok {
				return nil, fmt.Errorf("spec.isolate.nodes: %s is not a node of network %s (%s)", name, n.Name, describe(nodes))
			}
			side[name] = s
		}
	case spec.Reorg != nil:
		if chain := n.Spec.Chain; chain != "" && chain != v1alpha1.ChainRegtest { // "" is the API default, regtest
			return nil, fmt.Errorf("spec.reorg: network %s runs %s; the operator mines only on regtest: use a partition, and mine yourself", n.Name, n.Spec.Chain)
		}
		if len(nodes) < 2 {
			return nil, fmt.Errorf("spec.reorg: network %s has %d node(s); a reorganisation needs two sides, so at least 2 nodes", n.Name, len(nodes))
		}
		if resources.HasImplementation(n, v1alpha1.ImplementationBtcd) && n.Spec.Regtest == nil {
			// btcd's generate pays only to its configured miningaddr, which
			// the operator sets from spec.regtest's mining key.
			return nil, fmt.Errorf("spec.reorg: network %s runs btcd nodes and has no spec.regtest: btcd mines only to the mining address spec.regtest gives it; set spec.regtest: {} on the network", n.Name)
		}
		// The smaller side (first half, by index) mines depth blocks and
		// will reorganise; the rest mines depth+1.
		count = 1
		for _, node := range nodes[:len(nodes)/2] {
			side[node.Name] = 0
		}
	default:
		return nil, fmt.Errorf("spec: set partition, isolate or reorg")
	}
	sides := make([][]string, count)
	var rest []string
	for _, node := range nodes {
		if s, ok := side[node.Name]; ok {
			sides[s] = append(sides[s], node.Name)
		} else {
			rest = append(rest, node.Name)
		}
	}
	if len(rest) > 0 {
		sides = append(sides, rest)
	}
	sides = slices.DeleteFunc(sides, func(s []string) bool { return len(s) == 0 })
	if len(sides) < 2 {
		return nil, fmt.Errorf("spec: every node of network %s is on one side, so there is nothing to cut; name nodes on at least two sides, or leave some out", n.Name)
	}
	return sides, nil
}

// SideOfIndex maps the sides (by node name) to a side per global index,
// as peering.Options.Side takes it; a node on no side (the network grew
// since) is with the last side.
func SideOfIndex(sides [][]string, nodes []Node) []int {
	bySide := map[string]int{}
	for s, names := range sides {
		for _, name := range names {
			bySide[name] = s
		}
	}
	out := make([]int, len(nodes))
	for i, node := range nodes {
		s, ok := bySide[node.Name]
		if !ok {
			s = len(sides) - 1
		}
		out[i] = s
	}
	return out
}

// describe names a network's nodes briefly, for an error message.
func describe(nodes []Node) string {
	switch len(nodes) {
	case 0:
		return "it has no nodes"
	case 1:
		return "its node is " + nodes[0].Name
	}
	if len(nodes) <= 4 {
		names := make([]string, len(nodes))
		for i, n := range nodes {
			names[i] = n.Name
		}
		return "its nodes are " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("its nodes are %s … %s, %d in all", nodes[0].Name, nodes[len(nodes)-1].Name, len(nodes))
}
