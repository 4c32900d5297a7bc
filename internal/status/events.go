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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// Event is a Kubernetes event to record about a network.
type Event struct {
	Type    string // corev1.EventTypeNormal or corev1.EventTypeWarning
	Reason  string
	Action  string
	Message string
	// Node is the pod an event is about, if any; events about different
	// nodes must not be merged into one series.
	Node string
}

// Transitions returns the events that the change from old to new
// conditions deserves: one per transition, none when nothing changed, so
// repeated reconciles stay silent.
func Transitions(old, new []metav1.Condition) []Event {
	var events []Event
	oldDegraded := meta.FindStatusCondition(old, v1alpha1.ConditionDegraded)
	newDegraded := meta.FindStatusCondition(new, v1alpha1.ConditionDegraded)
	wasDegraded := oldDegraded != nil && oldDegraded.Status == metav1.ConditionTrue
	isDegraded := newDegraded != nil && newDegraded.Status == metav1.ConditionTrue
	switch {
	case isDegraded && (!wasDegraded || oldDegraded.Reason != newDegraded.Reason):
		events = append(events, Event{Type: corev1.EventTypeWarning, Reason: newDegraded.Reason, Action: "Reconcile", Message: newDegraded.Message})
	case wasDegraded && !isDegraded:
		events = append(events, Event{Type: corev1.EventTypeNormal, Reason: "Recovered", Action: "Reconcile",
			Message: "Recovered from " + oldDegraded.Reason + "."})
	}
	oldReady := meta.IsStatusConditionTrue(old, v1alpha1.ConditionReady)
	newReady := meta.FindStatusCondition(new, v1alpha1.ConditionReady)
	if !oldReady && newReady != nil && newReady.Status == metav1.ConditionTrue {
		events = append(events, Event{Type: corev1.EventTypeNormal, Reason: "NetworkReady", Action: "Reconcile", Message: newReady.Message})
	}
	if e := syncEvent(meta.FindStatusCondition(old, v1alpha1.ConditionInSync), meta.FindStatusCondition(new, v1alpha1.ConditionInSync)); e != nil {
		events = append(events, *e)
	}
	return events
}

// NodeTransitions returns events for nodes that became unreachable, joined
// the network (all their planned connections up for the first time), or
// had lost connections repaired. repaired counts the connections the
// operator re-made per node in this pass.
func NodeTransitions(old, new []v1alpha1.NodeStatus, repaired map[string]int) []Event {
	before := map[string]v1alpha1.NodeStatus{}
	for _, n := range old {
		before[n.Name] = n
	}
	wired := func(n v1alpha1.NodeStatus) bool {
		return n.Message == "" && n.ExpectedPeers > 0 && n.Peers >= n.ExpectedPeers
	}
	var events []Event
	for _, n := range new {
		prev, existed := before[n.Name]
		switch {
		// Only a node that answered before (it got its expected peers
		// from a successful check) becomes "unreachable"; a node still
		// starting is not news.
		case n.Message != "" && existed && prev.Message == "" && prev.ExpectedPeers > 0:
			events = append(events, Event{Type: corev1.EventTypeWarning, Reason: "NodeUnreachable", Action: "CheckPeers",
				Message: fmt.Sprintf("Node %s: %s", n.Name, n.Message), Node: n.Name})
		case existed && wired(prev) && repaired[n.Name] > 0:
			events = append(events, Event{Type: corev1.EventTypeNormal, Reason: "PeersRepaired", Action: "RepairPeers",
				Message: fmt.Sprintf("Node %s: reconnected %d planned peer(s).", n.Name, repaired[n.Name]), Node: n.Name})
		case wired(n) && (!existed || !wired(prev)):
			events = append(events, Event{Type: corev1.EventTypeNormal, Reason: "NodeJoined", Action: "ConnectPeers",
				Message: fmt.Sprintf("Node %s (%s) is connected to its %d planned peers.", n.Name, n.IP, n.ExpectedPeers), Node: n.Name})
		}
	}
	return events
}
