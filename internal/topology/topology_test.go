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
	"math/rand/v2"
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

// maxInbound is the most inbound connections the bounded mesh plans on a
// node (see groupPeers).
const maxInbound = 20

// node names a node by group and ordinal.
type node struct{ group, ordinal int }

// identities maps global indexes to nodes for a plan of these sizes.
func identities(sizes []int) []node {
	var out []node
	for g, s := range sizes {
		for k := 0; k < s; k++ {
			out = append(out, node{g, k})
		}
	}
	return out
}

// pairs are the plan's connections by node identity, unordered.
func pairs(t *testing.T, sizes []int) map[[2]node]bool {
	t.Helper()
	edges, err := PlanGroups(Mesh, sizes)
	if err != nil {
		t.Fatal(err)
	}
	ids := identities(sizes)
	out := map[[2]node]bool{}
	for _, e := range edges {
		a, b := ids[e.From], ids[e.To]
		if b.group < a.group || (b.group == a.group && b.ordinal < a.ordinal) {
			a, b = b, a
		}
		out[[2]node{a, b}] = true
	}
	return out
}

// checkMesh checks a plan of these sizes: no self or duplicate pair, at
// most MaxAddedPeers added per node, connected within DiameterBound.
func checkMesh(t *testing.T, sizes []int) {
	t.Helper()
	edges, err := PlanGroups(Mesh, sizes)
	if err != nil {
		t.Fatal(err)
	}
	n := len(identities(sizes))
	seen := map[[2]int]bool{}
	out := make([]int, n)
	for _, e := range edges {
		pair := [2]int{min(e.From, e.To), max(e.From, e.To)}
		if e.From == e.To || seen[pair] {
			t.Fatalf("%v: edge %v repeats a pair or is a loop", sizes, e)
		}
		seen[pair] = true
		out[e.From]++
	}
	if m := slices.Max(append(out, 0)); m > MaxAddedPeers {
		t.Errorf("%v: a node adds %d peers", sizes, m)
	}
	in := make([]int, n)
	for _, e := range edges {
		in[e.To]++
	}
	if m := slices.Max(append(in, 0)); n > maxFullMesh && m > maxInbound {
		t.Errorf("%v: a node is added by %d peers, more than %d", sizes, m, maxInbound)
	}
	diameter := 0
	for src := 0; src < n; src++ {
		for dst, d := range distances(edges, n, src) {
			if d < 0 {
				t.Fatalf("%v: node %d cannot reach node %d", sizes, src, dst)
			}
			diameter = max(diameter, d)
		}
	}
	if diameter > DiameterBound(n) {
		t.Errorf("%v: diameter %d exceeds %d", sizes, diameter, DiameterBound(n))
	}
}

// A mesh of up to 1000 nodes in one group or split among groups keeps the
// degree cap and stays within six hops.
func TestMeshOfGroupsUpTo1000Nodes(t *testing.T) {
	if testing.Short() {
		t.Skip("BFS over 1000-node plans")
	}
	for _, sizes := range [][]int{
		{1000}, {999}, {500, 500}, {250, 250, 250, 250}, {997, 1, 1, 1}, {1, 1, 1, 997}, {125, 125, 125, 125, 125, 125, 125, 125},
		{300, 300, 200, 200}, {990, 10}, {10, 990}, {5, 0, 0, 5, 0, 0, 5, 5}, {9, 9}, {0, 18}, {400, 0, 600},
	} {
		checkMesh(t, sizes)
	}
	for n := 101; n <= 1000; n += 37 {
		checkMesh(t, []int{n})
	}
	if _, err := PlanGroups(Mesh, make([]int, MaxGroups+1)); err == nil {
		t.Errorf("%d groups accepted", MaxGroups+1)
	}
}

// Scaling one group, in either direction and by any number of nodes,
// changes only the connections of the nodes that come or go: every pair of
// nodes that stay is connected before exactly when it is after (in the
// mesh beyond 17 nodes, and trivially in the full mesh below).
func TestScalingOneGroupChangesNoConnectionOfTheOthers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		groups := 1 + rng.IntN(MaxGroups)
		before := make([]int, groups)
		for g := range before {
			before[g] = rng.IntN(60)
		}
		after := slices.Clone(before)
		g := rng.IntN(groups)
		after[g] = rng.IntN(60)
		total := func(s []int) int {
			n := 0
			for _, v := range s {
				n += v
			}
			return n
		}
		if (total(before) <= maxFullMesh) != (total(after) <= maxFullMesh) {
			continue // the mesh changes shape at that size
		}
		p, q := pairs(t, before), pairs(t, after)
		stays := func(x node) bool { return x.group != g || x.ordinal < min(before[g], after[g]) }
		for pair := range p {
			if stays(pair[0]) && stays(pair[1]) && !q[pair] {
				t.Fatalf("%v → %v: %v lost its connection", before, after, pair)
			}
		}
		for pair := range q {
			if stays(pair[0]) && stays(pair[1]) && !p[pair] {
				t.Fatalf("%v → %v: %v got a new connection", before, after, pair)
			}
		}
	}
}
