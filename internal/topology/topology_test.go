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
	"fmt"
	"slices"
	"testing"
)

// distances returns the hop distances from node src over the undirected
// graph of the edges (-1 when unreachable).
func distances(edges []Edge, n, src int) []int {
	nb := Neighbours(edges, n)
	dist := make([]int, n)
	for i := range dist {
		dist[i] = -1
	}
	dist[src] = 0
	queue := []int{src}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range nb[v] {
			if dist[w] < 0 {
				dist[w] = dist[v] + 1
				queue = append(queue, w)
			}
		}
	}
	return dist
}

func TestMeshPropertiesForEveryNetworkSize(t *testing.T) {
	for n := 0; n <= 100; n++ {
		edges, err := Plan(Mesh, n)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[[2]int]bool{}
		out := make([]int, n)
		for _, e := range edges {
			if e.From == e.To || e.From < 0 || e.To < 0 || e.From >= n || e.To >= n {
				t.Fatalf("n=%d: bad edge %v", n, e)
			}
			pair := [2]int{min(e.From, e.To), max(e.From, e.To)}
			if seen[pair] {
				t.Fatalf("n=%d: pair %v planned twice (both ends, or duplicated)", n, pair)
			}
			seen[pair] = true
			out[e.From]++
		}
		if m := slices.Max(append(out, 0)); m > MaxAddedPeers {
			t.Errorf("n=%d: a node adds %d peers, more than Bitcoin Core's cap of %d", n, m, MaxAddedPeers)
		}
		if n <= 17 && len(edges) != n*(n-1)/2 {
			t.Errorf("n=%d: %d edges, want the full mesh of %d", n, len(edges), n*(n-1)/2)
		}
		diameter := 0
		for src := 0; src < n; src++ {
			for dst, d := range distances(edges, n, src) {
				if d < 0 {
					t.Fatalf("n=%d: node %d cannot reach node %d", n, src, dst)
				}
				diameter = max(diameter, d)
			}
		}
		if diameter > DiameterBound(n) {
			t.Errorf("n=%d: diameter %d exceeds the bound %d", n, diameter, DiameterBound(n))
		}
		again, _ := Plan(Mesh, n)
		if !slices.Equal(edges, again) {
			t.Errorf("n=%d: two plans differ", n)
		}
	}
}

func TestRingConnectsEveryNodeToItsSuccessor(t *testing.T) {
	for n := 0; n <= 100; n++ {
		edges, _ := Plan(Ring, n)
		want := n
		if n <= 2 {
			want = max(n-1, 0)
		}
		if len(edges) != want {
			t.Errorf("n=%d: %d edges, want %d", n, len(edges), want)
		}
		for v := 0; v < n; v++ {
			if len(PeersOf(edges, v)) > 1 {
				t.Errorf("n=%d: node %d adds %v", n, v, PeersOf(edges, v))
			}
			for _, d := range distances(edges, n, v) {
				if d < 0 {
					t.Fatalf("n=%d: ring is not connected", n)
				}
			}
		}
	}
}

func TestNonePlansNothingAndUnknownKindsFail(t *testing.T) {
	if edges, err := Plan(None, 10); err != nil || len(edges) != 0 {
		t.Errorf("none: %v %v, want no edges", edges, err)
	}
	if _, err := Plan("star", 3); err == nil {
		t.Error("unknown topology accepted")
	}
}

// TestScalingByOneChangesOnlyTheEdgesOfThatNode measures churn: the
// number of planned adds that differ between n and n+1 nodes. The only
// edges that change are those of the added node, except once, where the
// mesh switches from full (17 nodes) to bounded degree (18).
func TestScalingByOneChangesOnlyTheEdgesOfThatNode(t *testing.T) {
	for _, kind := range []Kind{Mesh, Ring} {
		total := 0
		for n := 0; n < 100; n++ {
			before, _ := Plan(kind, n)
			after, _ := Plan(kind, n+1)
			changed, ofNewNode := churn(before, after, n)
			total += changed
			if changed != ofNewNode {
				if kind == Mesh && n == 17 {
					t.Logf("mesh 17→18 nodes: %d planned adds change (full mesh to bounded degree)", changed)
					continue
				}
				if kind == Ring && changed-ofNewNode <= 1 {
					continue // the closing edge moves from n-1→0 to n→0
				}
				t.Errorf("%s %d→%d nodes: %d adds change, %d of them involve the new node", kind, n, n+1, changed, ofNewNode)
			}
		}
		t.Logf("%s: %d planned adds change over all steps 0→100", kind, total)
	}
}

func churn(before, after []Edge, newNode int) (changed, ofNewNode int) {
	in := func(list []Edge, e Edge) bool { return slices.Contains(list, e) }
	for _, e := range append(slices.Clone(before), after...) {
		if in(before, e) != in(after, e) {
			changed++
			if e.From == newNode || e.To == newNode {
				ofNewNode++
			}
		}
	}
	return changed, ofNewNode
}

func ExamplePlan() {
	edges, _ := Plan(Mesh, 4)
	for v := 0; v < 4; v++ {
		fmt.Println(v, "adds", PeersOf(edges, v))
	}
	// Output:
	// 0 adds [1 3]
	// 1 adds [2]
	// 2 adds [0 3]
	// 3 adds [1]
}
