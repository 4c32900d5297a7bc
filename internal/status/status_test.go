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

package status

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

func network(nodes int32) *v1alpha1.BitcoinNetwork {
	return &v1alpha1.BitcoinNetwork{
		ObjectMeta: metav1.ObjectMeta{Name: "net", Namespace: "btc", Generation: 4},
		Spec:       v1alpha1.BitcoinNetworkSpec{Nodes: ptr.To(nodes), Chain: v1alpha1.ChainRegtest, Implementation: v1alpha1.ImplementationBitcoind, Topology: v1alpha1.TopologyMesh},
	}
}

// statefulSet is the network's StatefulSet, its roll-out complete.
func statefulSet(replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "net", Namespace: "btc", UID: "sts-uid", Generation: 7},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To(replicas)},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 7, Replicas: replicas, ReadyReplicas: replicas, UpdatedReplicas: replicas,
			CurrentRevision: "net-abc", UpdateRevision: "net-abc"},
	}
}

// pod is a pod the StatefulSet controls.
func pod(name string, ready bool, hash string) *corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{resources.AnnotationConfigHash: hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "net", UID: "sts-uid", Controller: ptr.To(true)}}},
		Status: corev1.PodStatus{PodIP: "127.0.0.9", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
}

// sole is the one group of a network of one group, as applied.
func sole(n *v1alpha1.BitcoinNetwork, sts *appsv1.StatefulSet, hash string) []GroupObserved {
	return []GroupObserved{{Group: resources.Groups(n)[0], StatefulSet: sts, DesiredConfigHash: hash}}
}

// connected is a peer check that found every planned connection up.
func connected(planned int) *Peering {
	return &Peering{Nodes: map[string]NodePeering{}, PlannedEdges: planned, ConnectedEdges: planned}
}

func TestComputeConditions(t *testing.T) {
	deleting := pod("net-2", true, "h")
	deleting.DeletionTimestamp = &metav1.Time{}
	rolling := statefulSet(2)
	rolling.Status.UpdateRevision, rolling.Status.UpdatedReplicas = "net-def", 1
	unseen := statefulSet(2)
	unseen.Generation = 8
	ready2 := []*corev1.Pod{pod("net-1", true, "h"), pod("net-0", true, "h")}
	tests := []struct {
		name                        string
		nodes                       int32
		pods                        []*corev1.Pod
		sts                         *appsv1.StatefulSet
		peering                     *Peering
		problem                     *Problem
		ready, progressing, degrade string // reasons
		readyTrue, progressingTrue  bool
	}{
		{name: "no pods yet", nodes: 2, sts: statefulSet(2), ready: ReasonNodesNotReady, progressing: ReasonScaling, progressingTrue: true, degrade: ReasonReconciled},
		{name: "starting", nodes: 2, sts: statefulSet(2), pods: []*corev1.Pod{pod("net-0", true, "h"), pod("net-1", false, "h")},
			ready: ReasonNodesNotReady, progressing: ReasonNodesStarting, progressingTrue: true, degrade: ReasonReconciled},
		{name: "all ready and connected", nodes: 2, sts: statefulSet(2), pods: ready2, peering: connected(1),
			ready: ReasonAllNodesReady, readyTrue: true, progressing: ReasonStable, degrade: ReasonReconciled},
		{name: "all ready, a planned connection down", nodes: 2, sts: statefulSet(2), pods: ready2, peering: &Peering{PlannedEdges: 1},
			ready: ReasonPeersNotConnected, progressing: ReasonStable, degrade: ReasonReconciled},
		{name: "all ready, peers not checked yet", nodes: 2, sts: statefulSet(2), pods: ready2,
			ready: ReasonPeersNotConnected, progressing: ReasonStable, degrade: ReasonReconciled},
		{name: "terminating pod does not count", nodes: 2, sts: statefulSet(2), pods: append([]*corev1.Pod{deleting}, ready2...), peering: connected(1),
			ready: ReasonAllNodesReady, readyTrue: true, progressing: ReasonStable, degrade: ReasonReconciled},
		{name: "outdated config", nodes: 2, sts: statefulSet(2), pods: []*corev1.Pod{pod("net-0", true, "old"), pod("net-1", true, "h")}, peering: connected(1),
			ready: ReasonRollingOut, progressing: ReasonRollingOut, progressingTrue: true, degrade: ReasonReconciled},
		{name: "StatefulSet still rolling (any template change)", nodes: 2, sts: rolling, pods: ready2, peering: connected(1),
			ready: ReasonRollingOut, progressing: ReasonRollingOut, progressingTrue: true, degrade: ReasonReconciled},
		{name: "StatefulSet controller has not seen the template", nodes: 2, sts: unseen, pods: ready2, peering: connected(1),
			ready: ReasonRollingOut, progressing: ReasonRollingOut, progressingTrue: true, degrade: ReasonReconciled},
		{name: "scaled to zero", nodes: 0, sts: statefulSet(0), ready: ReasonScaledToZero, readyTrue: true, progressing: ReasonStable, degrade: ReasonReconciled},
		{name: "blocked", nodes: 2, problem: &Problem{Reason: ReasonRPCSecretNotFound, Message: "spec.rpcSecretName: missing"},
			ready: ReasonRPCSecretNotFound, progressing: ReasonBlocked, degrade: ReasonRPCSecretNotFound},
		{name: "apply rejected", nodes: 2, pods: ready2, peering: connected(1), problem: &Problem{Reason: ReasonApplyFailed, Message: "applying StatefulSet net: invalid"},
			ready: ReasonApplyFailed, progressing: ReasonBlocked, degrade: ReasonApplyFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := network(tt.nodes)
			n.Status.ObservedGeneration = 3
			hash := "h"
			if tt.problem != nil {
				hash = ""
			}
			st := Compute(Observed{Network: n, Pods: tt.pods, Groups: sole(n, tt.sts, hash), Peering: tt.peering, Problem: tt.problem, ClusterDomain: "cluster.local"})
			check := func(condType, reason string, wantTrue bool) {
				c := meta.FindStatusCondition(st.Conditions, condType)
				if c == nil {
					t.Fatalf("no %s condition", condType)
				}
				if c.Reason != reason || (c.Status == metav1.ConditionTrue) != wantTrue || c.ObservedGeneration != 4 || c.Message == "" {
					t.Errorf("%s = %s/%s %q (generation %d), want %v/%s with a message at generation 4",
						condType, c.Status, c.Reason, c.Message, c.ObservedGeneration, wantTrue, reason)
				}
			}
			check(v1alpha1.ConditionReady, tt.ready, tt.readyTrue)
			check(v1alpha1.ConditionProgressing, tt.progressing, tt.progressingTrue)
			check(v1alpha1.ConditionDegraded, tt.degrade, tt.problem != nil)
			// A spec that was not applied is not observed.
			wantGeneration := int64(4)
			if tt.problem != nil {
				wantGeneration = 3
			}
			if st.ObservedGeneration != wantGeneration || st.Selector == "" || st.RPCSecretName != "net-rpc" {
				t.Errorf("observedGeneration %d (want %d) selector %q rpcSecretName %q", st.ObservedGeneration, wantGeneration, st.Selector, st.RPCSecretName)
			}
		})
	}
}

func TestComputeListsOnlyPodsTheStatefulSetControlsByOrdinal(t *testing.T) {
	n := network(3)
	impostor := pod("net-1", true, "h") // carries the labels, not the owner
	impostor.OwnerReferences = nil
	foreign := pod("net-0", true, "h") // another StatefulSet's
	foreign.OwnerReferences[0].UID = "other-uid"
	relabelled := pod("net-x-2", true, "h") // a group's pod, not this StatefulSet's
	relabelled.Labels = map[string]string{"apps.kubernetes.io/pod-index": "2"}
	pods := []*corev1.Pod{impostor, foreign, pod("net-10", true, "h"), pod("net-2", false, "h"), relabelled, pod("other-0", true, "h"), pod("net-x", true, "h")}
	st := Compute(Observed{Network: n, Pods: pods, Groups: sole(n, statefulSet(3), "h"), ClusterDomain: "example.internal"})
	if len(st.Nodes) != 2 || st.Nodes[0].Name != "net-2" || st.Nodes[1].Name != "net-10" || st.Nodes[1].Ordinal != 10 {
		t.Fatalf("nodes = %+v, want net-2 then net-10 (pods the StatefulSet does not control, duplicate ordinals and bad names skipped)", st.Nodes)
	}
	if st.Nodes[0].DNSName != "net-2.net.btc.svc.example.internal" || st.CurrentNodes != 2 || st.ReadyNodes != 1 {
		t.Errorf("dnsName %q currentNodes %d readyNodes %d", st.Nodes[0].DNSName, st.CurrentNodes, st.ReadyNodes)
	}
}

func TestComputeKeepsTransitionTimeWhenNothingChanges(t *testing.T) {
	for name, o := range map[string]Observed{
		"scaled to zero": {Groups: sole(network(0), statefulSet(0), "h")},
		// Progressing was once set True, then overwritten False, on every
		// reconcile of a blocked network.
		"blocked":  {Groups: sole(network(2), nil, ""), Problem: &Problem{Reason: ReasonRPCSecretNotFound, Message: "missing"}},
		"starting": {Groups: sole(network(2), statefulSet(2), "h"), Pods: []*corev1.Pod{pod("net-0", false, "h")}},
	} {
		n := network(2)
		if name == "scaled to zero" {
			n = network(0)
		}
		o.Network = n
		first := Compute(o)
		past := metav1.NewTime(metav1.Now().Add(-3600e9))
		for i := range first.Conditions {
			first.Conditions[i].LastTransitionTime = past
		}
		n.Status = first
		second := Compute(o)
		for _, c := range second.Conditions {
			if !c.LastTransitionTime.Equal(&past) {
				t.Errorf("%s: %s transition time moved from %v to %v without a change", name, c.Type, past, c.LastTransitionTime)
			}
		}
	}
}

// With topology none the operator still observes the nodes: their chain
// is shown, and no connection is expected of them.
func TestTopologyNoneShowsWhatTheNodesSay(t *testing.T) {
	n := network(1)
	n.Spec.Topology = v1alpha1.TopologyNone
	n.Status.Nodes = []v1alpha1.NodeStatus{{Name: "net-0", IP: "127.0.0.9", Peers: 3, ExpectedPeers: 3, BlockHeight: 4}}
	p := &Peering{Nodes: map[string]NodePeering{"net-0": {Peers: 1, BlockHeight: 7, BestBlockHash: "h7"}}, TipHeight: 7, TipHash: "h7"}
	st := Compute(Observed{Network: n, Pods: []*corev1.Pod{pod("net-0", true, "h")}, Groups: sole(n, statefulSet(1), "h"), Peering: p})
	if got := st.Nodes[0]; got.Peers != 1 || got.ExpectedPeers != 0 || got.BlockHeight != 7 {
		t.Errorf("node %+v, want the pass's observation: 1 peer, none expected, height 7", got)
	}
	if st.TipHeight != 7 {
		t.Errorf("tip %d, want 7", st.TipHeight)
	}
}

func TestTransitionsEmitOneEventPerChange(t *testing.T) {
	cond := func(condType string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: condType, Status: status, Reason: reason, Message: reason + " message"}
	}
	healthy := []metav1.Condition{cond(v1alpha1.ConditionDegraded, metav1.ConditionFalse, ReasonReconciled), cond(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonAllNodesReady)}
	missing := []metav1.Condition{cond(v1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonRPCSecretNotFound), cond(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonRPCSecretNotFound)}
	invalid := []metav1.Condition{cond(v1alpha1.ConditionDegraded, metav1.ConditionTrue, ReasonRPCSecretInvalid), cond(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonRPCSecretInvalid)}

	tests := []struct {
		name     string
		old, new []metav1.Condition
		want     []string // event reasons
	}{
		{"unchanged healthy", healthy, healthy, nil},
		{"unchanged degraded", missing, missing, nil},
		{"first becomes degraded", nil, missing, []string{ReasonRPCSecretNotFound}},
		{"degraded for another reason", missing, invalid, []string{ReasonRPCSecretInvalid}},
		{"recovers and becomes ready", invalid, healthy, []string{"Recovered", "NetworkReady"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range Transitions(tt.old, tt.new) {
			got = append(got, e.Reason)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: events %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: events %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}

func TestNodeTransitions(t *testing.T) {
	wired := v1alpha1.NodeStatus{Name: "n-0", IP: "127.0.0.2", Peers: 2, ExpectedPeers: 2}
	starting := v1alpha1.NodeStatus{Name: "n-0", IP: "127.0.0.2"}
	failing := v1alpha1.NodeStatus{Name: "n-0", IP: "127.0.0.2", ExpectedPeers: 2, Message: "connection refused"}
	half := v1alpha1.NodeStatus{Name: "n-0", IP: "127.0.0.2", Peers: 1, ExpectedPeers: 2}
	tests := []struct {
		name     string
		old, new []v1alpha1.NodeStatus
		repaired map[string]int
		want     []string
	}{
		{"joins", []v1alpha1.NodeStatus{starting}, []v1alpha1.NodeStatus{wired}, nil, []string{"NodeJoined"}},
		{"new and wired at once", nil, []v1alpha1.NodeStatus{wired}, nil, []string{"NodeJoined"}},
		{"stays wired", []v1alpha1.NodeStatus{wired}, []v1alpha1.NodeStatus{wired}, nil, nil},
		{"still starting is not unreachable", nil, []v1alpha1.NodeStatus{failing}, nil, nil},
		{"becomes unreachable", []v1alpha1.NodeStatus{wired}, []v1alpha1.NodeStatus{failing}, nil, []string{"NodeUnreachable"}},
		{"stays unreachable", []v1alpha1.NodeStatus{failing}, []v1alpha1.NodeStatus{failing}, nil, nil},
		{"repaired", []v1alpha1.NodeStatus{wired}, []v1alpha1.NodeStatus{half}, map[string]int{"n-0": 1}, []string{"PeersRepaired"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range NodeTransitions(tt.old, tt.new, tt.repaired) {
			got = append(got, e.Reason)
			if e.Node != "n-0" {
				t.Errorf("%s: event %s not related to its node", tt.name, e.Reason)
			}
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("%s: events %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The status names how a client reaches the nodes before any pod runs:
// the Service, the first node's RPC and P2P addresses, each group's ports
// and, with btcd, the Secret holding the CA of its RPC certificates.
func TestComputeNamesTheEndpoints(t *testing.T) {
	n := network(2)
	st := Compute(Observed{Network: n, Groups: sole(n, nil, "h"), ClusterDomain: "cluster.local"})
	want := v1alpha1.EndpointsStatus{Service: "net.btc.svc.cluster.local", RPC: "net-0.net.btc.svc.cluster.local:18443", P2P: "net-0.net.btc.svc.cluster.local:18444"}
	if st.Endpoints == nil || *st.Endpoints != want {
		t.Errorf("endpoints %+v, want %+v", st.Endpoints, want)
	}
	if len(st.Groups) != 1 || st.Groups[0].RPCPort != 18443 || st.Groups[0].P2PPort != 18444 {
		t.Errorf("groups %+v, want Core's regtest ports", st.Groups)
	}

	mixed := network(0)
	mixed.Spec.Nodes = nil
	mixed.Spec.Groups = []v1alpha1.NodeGroup{{Name: "core", Nodes: 1, Implementation: v1alpha1.ImplementationBitcoind}, {Name: "btcd", Nodes: 1, Implementation: v1alpha1.ImplementationBtcd}}
	var groups []GroupObserved
	for _, g := range resources.Groups(mixed) {
		groups = append(groups, GroupObserved{Group: g})
	}
	st = Compute(Observed{Network: mixed, Groups: groups, ClusterDomain: "cluster.local"})
	if st.Endpoints == nil || st.Endpoints.RPC != "net-core-0.net.btc.svc.cluster.local:18443" || st.Endpoints.TLSCASecret != "net-tls" {
		t.Errorf("endpoints %+v, want node net-core-0's and the CA Secret net-tls", st.Endpoints)
	}
	if len(st.Groups) != 2 || st.Groups[1].RPCPort != 18334 || st.Groups[1].P2PPort != 18444 {
		t.Errorf("groups %+v, want btcd's regtest ports on the second", st.Groups)
	}
}

// The tip's difficulty is shown as a decimal string, as the node gave it.
func TestComputeShowsTheTipsDifficulty(t *testing.T) {
	n := network(1)
	p := connected(0)
	p.TipHeight, p.TipHash, p.TipDifficulty = 7, "00ab", 0.001126515290698186
	st := Compute(Observed{Network: n, Groups: sole(n, nil, "h"), Peering: p})
	if st.TipDifficulty != "0.00112652" || st.TipHeight != 7 {
		t.Errorf("tip %d, difficulty %q; want 7, 0.00112652", st.TipHeight, st.TipDifficulty)
	}
	n.Status = st
	if again := Compute(Observed{Network: n, Groups: sole(n, nil, "h")}); again.TipDifficulty != st.TipDifficulty {
		t.Errorf("without a new pass the difficulty became %q", again.TipDifficulty)
	}
}
