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
// Every edge is added from one end only (a bitcoin P2P connection carries
// traffic both ways), no node adds more than MaxAddedPeers peers (Bitcoin
// Core connects to at most 8 added nodes), and a node's edges do not depend
// on how many nodes follow it, so scaling by one changes only the edges of
// the node that comes or goes.
package topology

import (
	"fmt"
	"math/bits"
	"slices"
)

// MaxAddedPeers is Bitcoin Core's MAX_ADDNODE_CONNECTIONS: it keeps at most
// this many connections to peers added with "addnode add".
const MaxAddedPeers = 8

// maxFullMesh is the largest network whose full mesh fits MaxAddedPeers:
// a balanced orientation of the complete graph on n nodes has out-degree
// at most floor(n/2).
const maxFullMesh = 2*MaxAddedPeers + 1

// Kind is a topology.
type Kind string

// The topologies (the values of spec.topology).
const (
	Mesh Kind = "mesh"
	Ring Kind = "ring"
	None Kind = "none"
)

// Edge says that node From adds node To as a peer (ordinals).
type Edge struct {
	From, To int
}

// Plan returns the edges of an n-node network of the given kind, sorted.
//
//   - Mesh with n ≤ 17: every pair once. Between i < j, i adds j when i+j
//     is odd, else j adds i; node v then adds floor(v/2) + floor((n-v)/2)
//     ≤ floor(n/2) ≤ 8 peers.
//   - Mesh with n > 17: node i adds i-1, i-2, i-4, … (powers of two not
//     above i): at most ⌈log2 n⌉ ≤ 7 peers for n ≤ 100, and any two nodes
//     are at most popcount(distance) ≤ ⌈log2 n⌉ hops apart.
//   - Ring: node i adds its successor i+1, and the last node adds node 0.
//   - None: no edges; the operator leaves peering to the user.
func Plan(kind Kind, n int) ([]Edge, error) {
	var edges []Edge
	switch kind {
	case Mesh:
		if n <= maxFullMesh {
			for i := 0; i < n; i++ {
				for j := i + 1; j < n; j++ {
					if (i+j)%2 == 1 {
						edges = append(edges, Edge{From: i, To: j})
					} else {
						edges = append(edges, Edge{From: j, To: i})
					}
				}
			}
		} else {
			for i := 1; i < n; i++ {
				for step := 1; step <= i; step *= 2 {
					edges = append(edges, Edge{From: i, To: i - step})
				}
			}
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

// DiameterBound is the largest distance Plan guarantees between two nodes
// of an n-node mesh: 1 for a full mesh, ⌈log2 n⌉ beyond.
func DiameterBound(n int) int {
	if n <= 1 {
		return 0
	}
	if n <= maxFullMesh {
		return 1
	}
	return bits.Len(uint(n - 1))
}
