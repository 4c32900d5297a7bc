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

package topology

import "slices"

// Partition returns the edges a network of n nodes keeps while it is split
// into sides (side[i] is node i's side): the planned edges within a side,
// and where dropping the others leaves a side in pieces, one bridge from
// each piece's first node to the next piece's, so that every side stays
// connected (a ring and the bounded mesh come apart when cut). Edges
// between sides are never planned.
func Partition(edges []Edge, side []int, n int) []Edge {
	kept := slices.DeleteFunc(slices.Clone(edges), func(e Edge) bool {
		return e.From >= n || e.To >= n || side[e.From] != side[e.To]
	})
	// Union-find over the kept edges gives each side's pieces.
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, e := range kept {
		if a, b := find(e.From), find(e.To); a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	// The first node of each piece, by side, in index order.
	firsts := map[int][]int{}
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		if root := find(i); !seen[root] {
			seen[root] = true
			firsts[side[i]] = append(firsts[side[i]], i)
		}
	}
	for _, f := range firsts {
		for k := 1; k < len(f); k++ {
			kept = append(kept, Edge{From: f[k-1], To: f[k]})
		}
	}
	slices.SortFunc(kept, compareEdges)
	return kept
}
