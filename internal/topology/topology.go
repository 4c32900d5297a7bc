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

// Package topology plans the peer-to-peer graph of a network: which node
// adds which peer. It is pure Go with no Kubernetes or RPC knowledge.
//
// A network is made of groups of nodes (one StatefulSet each); a node is
// known by its group and ordinal, and numbered in a plan by its global
// index: group 0's nodes first, then group 1's, and so on. Every edge is
// added from one end only (a bitcoin P2P connection carries traffic both
// ways) and no node adds more than MaxAddedPeers peers (Bitcoin Core
// connects to at most 8 added nodes). Which pairs are connected depends
// only on the nodes of the pair, never on how many nodes a group has, so
// scaling a group changes only the connections of the nodes that come or
// go (where the number of nodes crosses maxFullMesh, the mesh changes
// shape once).
package topology

import (
	"fmt"
	"slices"
)

// MaxAddedPeers is Bitcoin Core's MAX_ADDNODE_CONNECTIONS: it keeps at most
// this many connections to peers added with "addnode add".
const MaxAddedPeers = 8

// maxFullMesh is the largest network whose full mesh fits MaxAddedPeers:
// a balanced orientation of the complete graph on n nodes has out-degree
// at most floor(n/2).
const maxFullMesh = 2*MaxAddedPeers + 1

// MaxGroups bounds the groups of a network: the first nodes of all groups
// are connected pairwise, within MaxAddedPeers.
const MaxGroups = MaxAddedPeers

// crossGroupPeers is how many other groups a node beyond a group's first
// adds a peer in.
const crossGroupPeers = 2

// Kind is a topology.
type Kind string

// The topologies (the values of spec.topology).
const (
	Mesh Kind = "mesh"
	Ring Kind = "ring"
	None Kind = "none"
)

// Edge says that node From adds node To as a peer (global indexes).
type Edge struct {
	From, To int
}

// Plan returns the edges of a network of one group of n nodes.
func Plan(kind Kind, n int) ([]Edge, error) { return PlanGroups(kind, []int{n}) }

// PlanGroups returns the edges of a network whose groups have the given
// sizes, by global index, sorted.
//
//   - Mesh with at most 17 nodes in all: every pair once. Between global
//     indexes i < j, i adds j when i+j is odd, else j adds i; a node then
//     adds at most floor(n/2) ≤ 8 peers. (Which end adds an edge may change
//     when a group scales; the connection does not.)
//   - Mesh beyond: the first node of each group adds the first node of
//     every later group; node k > 0 of a group adds up to 8 of its own
//     group's nodes (see groupPeers), fewer by the node k/2 of each of the
//     next two groups (when those have it) it adds too. Every pair depends
//     on its two nodes alone; for 1000 nodes in up to 8 groups any two
//     nodes are at most 6 hops apart.
//   - Ring: each node adds the next by global index, the last adds node 0.
//   - None: no edges; the operator leaves peering to the user.
func PlanGroups(kind Kind, sizes []int) ([]Edge, error) {
	if len(sizes) > MaxGroups {
		return nil, fmt.Errorf("%d groups, more than %d", len(sizes), MaxGroups)
	}
	n := 0
	for _, s := range sizes {
		n += s
	}
	var edges []Edge
	switch kind {
	case Mesh:
		if n <= maxFullMesh {
			edges = fullMesh(n)
		} else {
			edges = boundedMesh(sizes)
		}
	case Ring:
		for i := 0; i+1 < n; i++ {
			edges = append(edges, Edge{From: i, To: i + 1})
		}
		if n > 2 {
			edges = append(edges, Edge{From: n - 1, To: 0})
		}
	case None:
	default:
		return nil, fmt.Errorf("unknown topology %q", kind)
	}
	slices.SortFunc(edges, compareEdges)
	return edges, nil
}

// fullMesh orients every pair of n nodes by the parity of their sum.
func fullMesh(n int) []Edge {
	var edges []Edge
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if (i+j)%2 == 1 {
				edges = append(edges, Edge{From: i, To: j})
			} else {
				edges = append(edges, Edge{From: j, To: i})
			}
		}
	}
	return edges
}

// groupPeers are the ordinals node k > 0 of a group adds in its own group,
// most useful first (a node with fewer to add than this takes the first
// ones): near predecessors keep every prefix of the group connected, and
// k/2 … k/5 reach the group's first nodes in a few hops. Chosen among
// candidates by measuring, for 100 and 1000 nodes in 1, 2, 4 and 8 groups:
// at most 5 hops between any two nodes and at most 20 inbound connections
// on a node (the first nodes receive the most).
func groupPeers(k int) [MaxAddedPeers]int {
	return [MaxAddedPeers]int{k - 1, k - 3, k / 2, k / 3, k / 4, k / 5, k - 7, k - 15}
}

// boundedMesh plans the mesh beyond maxFullMesh nodes (see PlanGroups).
func boundedMesh(sizes []int) []Edge {
	first := make([]int, len(sizes)) // global index of each group's node 0
	for g := 1; g < len(sizes); g++ {
		first[g] = first[g-1] + sizes[g-1]
	}
	cross := min(crossGroupPeers, len(sizes)-1)
	budget := MaxAddedPeers - cross
	edges := make([]Edge, 0, MaxAddedPeers*(first[len(sizes)-1]+sizes[len(sizes)-1]))
	targets := make([]int, 0, MaxAddedPeers)
	// add keeps each target once (a few candidates coincide for small k).
	add := func(from, to int) {
		if to != from && !slices.Contains(targets, to) {
			targets = append(targets, to)
		}
	}
	for g, size := range sizes {
		for k := 0; k < size; k++ {
			from := first[g] + k
			targets = targets[:0]
			if k == 0 {
				for h := g + 1; h < len(sizes); h++ {
					if sizes[h] > 0 {
						add(from, first[h])
					}
				}
			} else {
				peers := groupPeers(k)
				for _, t := range peers[:budget] {
					if t >= 0 {
						add(from, first[g]+t)
					}
				}
				for s := 1; s <= cross; s++ {
					if h := (g + s) % len(sizes); k/2 < sizes[h] {
						add(from, first[h]+k/2)
					}
				}
			}
			for _, to := range targets {
				edges = append(edges, Edge{From: from, To: to})
			}
		}
	}
	return edges
}

func compareEdges(a, b Edge) int {
	if a.From != b.From {
		return a.From - b.From
	}
	return a.To - b.To
}

// PeersOf returns the nodes that node adds, in order.
func PeersOf(edges []Edge, node int) []int {
	var peers []int
	for _, e := range edges {
		if e.From == node {
			peers = append(peers, e.To)
		}
	}
	return peers
}

// Neighbours returns, for each node, the nodes it is connected to in either
// direction: what a node's peer count should be once the plan holds.
func Neighbours(edges []Edge, n int) [][]int {
	nb := make([][]int, n)
	for _, e := range edges {
		nb[e.From] = append(nb[e.From], e.To)
		nb[e.To] = append(nb[e.To], e.From)
	}
	for i := range nb {
		slices.Sort(nb[i])
	}
	return nb
}

// DiameterBound is the largest distance PlanGroups' mesh keeps between two
// of n ≤ 1000 nodes: 1 for a full mesh, 6 beyond (measured for every size
// up to 1000 in one group and for many splits into groups: see the tests).
func DiameterBound(n int) int {
	switch {
	case n <= 1:
		return 0
	case n <= maxFullMesh:
		return 1
	}
	return 6
}
