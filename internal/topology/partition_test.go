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

import (
	"math/rand/v2"
	"testing"
)

// connectedWithin reports whether the nodes of each side reach each other
// over edges that stay within the side.
func connectedWithin(edges []Edge, side []int) bool {
	n := len(side)
	nb := Neighbours(edges, n)
	for s := range sideSet(side) {
		var first = -1
		count := 0
		for i := range side {
			if side[i] == s {
				count++
				if first < 0 {
					first = i
				}
			}
		}
		reached := map[int]bool{first: true}
		queue := []int{first}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, j := range nb[i] {
				if side[j] == s && !reached[j] {
					reached[j] = true
					queue = append(queue, j)
				}
			}
		}
		if len(reached) != count {
			return false
		}
	}
	return true
}

func sideSet(side []int) map[int]bool {
	out := map[int]bool{}
	for _, s := range side {
		out[s] = true
	}
	return out
}

func TestAPartitionPlansNoEdgeAcrossAndKeepsEverySideConnected(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []Kind{Mesh, Ring} {
		for _, n := range []int{2, 6, 17, 40, 300} {
			edges, err := Plan(kind, n)
			if err != nil {
				t.Fatal(err)
			}
			for trial := 0; trial < 20; trial++ {
				sides := 2 + rng.IntN(3)
				side := make([]int, n)
				for i := range side {
					side[i] = rng.IntN(sides)
				}
				kept := Partition(edges, side, n)
				planned := map[Edge]bool{}
				for _, e := range edges {
					planned[e] = true
				}
				for _, e := range kept {
					if side[e.From] != side[e.To] {
						t.Fatalf("%s %d: edge %v crosses sides %d and %d", kind, n, e, side[e.From], side[e.To])
					}
				}
				for _, e := range edges {
					if side[e.From] == side[e.To] && !containsEdge(kept, e) {
						t.Fatalf("%s %d: planned edge %v within side %d dropped", kind, n, e, side[e.From])
					}
				}
				if !connectedWithin(kept, side) {
					t.Fatalf("%s %d: a side is in pieces: sides %v, edges %v", kind, n, side, kept)
				}
			}
		}
	}
}

func containsEdge(edges []Edge, e Edge) bool {
	for _, k := range edges {
		if k == e {
			return true
		}
	}
	return false
}

func TestAPartitionOfOneSideIsThePlan(t *testing.T) {
	edges, _ := Plan(Ring, 9)
	kept := Partition(edges, make([]int, 9), 9)
	if len(kept) != len(edges) {
		t.Fatalf("one side: %d edges, want the plan's %d", len(kept), len(edges))
	}
}
