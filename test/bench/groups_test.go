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

package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
)

// groupsBenchSizes are the groups of the 1000-node network.
var groupsBenchSizes = []int32{250, 250, 250, 250}

// BenchmarkScaleGroups runs the operator binary with one network of 1000
// (fake) bitcoind nodes in 4 groups: the time from every pod ready to
// every planned connection up, the peering pass's p99, the operator's
// memory, and the plan's degree and diameter.
func BenchmarkScaleGroups(b *testing.B) {
	for i := 0; i < b.N; i++ {
		groupsAtScale(b)
	}
}

func groupsAtScale(b *testing.B) {
	c := startBenchCluster(b, 121)
	op := startOperator(b, c.bin, c.kubeconfigPath)
	defer func() { op.stop() }()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-groups"}}
	if err := c.k8s.Create(c.ctx, ns); err != nil {
		b.Fatal(err)
	}
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: ns.Name}}
	n.Spec.Topology = v1alpha1.TopologyMesh
	total := 0
	for i, size := range groupsBenchSizes {
		n.Spec.Groups = append(n.Spec.Groups, v1alpha1.NodeGroup{Name: fmt.Sprintf("g%d", i), Nodes: size})
		total += int(size)
	}
	if err := c.k8s.Create(c.ctx, n); err != nil {
		b.Fatal(err)
	}
	// Besides the goal's time, when the status counted every node ready and
	// when every planned connection was first up, to see where time goes.
	var allPodsReady, statusReady, connected time.Time
	profiled := make(chan struct{})
	defer func() {
		select { // a CPU profile still running ends with the operator
		case <-profiled:
		case <-time.After(20 * time.Second):
		}
	}()
	deadline := time.Now().Add(20 * time.Minute)
	for {
		if err := c.watch.Get(c.ctx, client.ObjectKeyFromObject(n), n); err != nil && !apierrors.IsNotFound(err) {
			b.Fatal(err)
		}
		if allPodsReady.IsZero() && podsReady(b, c, ns.Name) == total {
			allPodsReady = time.Now()
			go func() { op.saveProfile(b, "profile?seconds=15", "groups.cpu"); close(profiled) }()
		}
		if statusReady.IsZero() && int(n.Status.ReadyNodes) == total {
			statusReady = time.Now()
		}
		if connected.IsZero() && meta.IsStatusConditionTrue(n.Status.Conditions, v1alpha1.ConditionPeersConnected) {
			connected = time.Now()
		}
		if meta.IsStatusConditionTrue(n.Status.Conditions, v1alpha1.ConditionReady) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("not Ready after 20 minutes: %+v", meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionPeersConnected))
		}
		time.Sleep(250 * time.Millisecond)
	}
	wired := time.Since(allPodsReady)
	select {
	case <-profiled:
	case <-time.After(20 * time.Second):
	}
	f, err := op.scrape()
	if err != nil {
		b.Fatal(err)
	}
	p99 := controllerQuantile(f, "bitcoinnetwork-peering", 0.99)
	rss := rssMiB(op.cmd.Process.Pid)
	op.saveProfile(b, "heap", "groups.heap")
	op.saveProfile(b, "goroutine?debug=1", "groups.goroutines.txt")
	// And once the network has been steady for a minute (two peer checks;
	// node connections idle between them are closed).
	time.Sleep(time.Minute)
	steadyRSS := rssMiB(op.cmd.Process.Pid)
	sizes := make([]int, len(groupsBenchSizes))
	for i, s := range groupsBenchSizes {
		sizes[i] = int(s)
	}
	edges, err := topology.PlanGroups(topology.Mesh, sizes)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int, total)
	for _, e := range edges {
		out[e.From]++
	}
	diameter := planDiameter(edges, total)
	addRow(row{Scenario: "one network, 4 groups", Impl: "bitcoind (fake)", Nodes: total, ToConnectedMs: float64(wired.Milliseconds()),
		Note: fmt.Sprintf("all pods ready to Ready (status counted them all after %v, PeersConnected after %v); peering pass p99 %v; out-degree ≤ %d, diameter %d; manager RSS %.0f MiB at Ready, %.0f MiB after a steady minute",
			statusReady.Sub(allPodsReady).Round(time.Millisecond), connected.Sub(allPodsReady).Round(time.Millisecond),
			p99.Round(time.Millisecond), slices.Max(out), diameter, rss, steadyRSS)})
	b.ReportMetric(float64(wired.Milliseconds()), "ms-to-connected")
	b.ReportMetric(rss, "MiB-rss")
	b.ReportMetric(steadyRSS, "MiB-rss-steady")
	b.ReportMetric(float64(p99.Milliseconds()), "ms-pass-p99")
}

// podsReady counts the ready pods of a namespace (from the bench's cache).
func podsReady(b *testing.B, c *benchCluster, ns string) int {
	pods := &corev1.PodList{}
	if err := c.watch.List(c.ctx, pods, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		b.Fatal(err)
	}
	ready := 0
	for i := range pods.Items {
		if status.PodReady(&pods.Items[i]) {
			ready++
		}
	}
	return ready
}

// planDiameter is the largest hop distance between two nodes of a plan.
func planDiameter(edges []topology.Edge, n int) int {
	nb := topology.Neighbours(edges, n)
	diameter := 0
	for src := 0; src < n; src++ {
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
					diameter = max(diameter, dist[w])
					queue = append(queue, w)
				}
			}
		}
	}
	return diameter
}
