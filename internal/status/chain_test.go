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

package status_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

func TestAssessSync(t *testing.T) {
	now := time.Now()
	h := func(s string) string { return strings.Repeat("0", 60) + s }
	same := []status.NodeChain{{"n-0", 7, h("aaaa")}, {"n-1", 7, h("aaaa")}}
	if s := status.AssessSync(same, time.Time{}, now); s.Status != metav1.ConditionTrue || !s.Since.IsZero() {
		t.Errorf("same tip: %+v", s)
	}
	if s := status.AssessSync(nil, time.Time{}, now); s.Status != metav1.ConditionUnknown {
		t.Errorf("no node: %+v", s)
	}
	oneBehind := []status.NodeChain{{"n-0", 8, h("bbbb")}, {"n-1", 7, h("aaaa")}}
	s := status.AssessSync(oneBehind, time.Time{}, now)
	if s.Status != metav1.ConditionTrue || s.Reason != status.ReasonPropagating || !s.Since.Equal(now) {
		t.Errorf("a block propagating: %+v", s)
	}
	if s := status.AssessSync(oneBehind, now.Add(-status.SyncGrace), now); s.Status != metav1.ConditionFalse ||
		!strings.Contains(s.Message, "n-1 at 7") || !strings.Contains(s.Message, "Tip 8") {
		t.Errorf("one behind past the grace: %+v", s)
	}
	if s := status.AssessSync([]status.NodeChain{{"n-0", 20, h("cccc")}, {"n-1", 3, h("aaaa")}, {"n-2", 20, h("cccc")}}, time.Time{}, now); s.Status != metav1.ConditionFalse ||
		!strings.Contains(s.Message, "n-1 at 3") || !strings.Contains(s.Message, "behind") || strings.Contains(s.Message, "n-2") {
		t.Errorf("a stalled node: %+v", s)
	}
	if s := status.AssessSync([]status.NodeChain{{"n-0", 9, h("dddd")}, {"n-1", 9, h("eeee")}}, time.Time{}, now); s.Status != metav1.ConditionFalse || !strings.Contains(s.Message, "another chain") {
		t.Errorf("a fork: %+v", s)
	}
}

func TestInSyncTransitionsAreEvents(t *testing.T) {
	cond := func(s metav1.ConditionStatus) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionInSync, Status: s, Message: "m"}}
	}
	reasons := func(events []status.Event) (out []string) {
		for _, e := range events {
			out = append(out, e.Reason)
		}
		return out
	}
	if got := reasons(status.Transitions(cond(metav1.ConditionTrue), cond(metav1.ConditionFalse))); len(got) != 1 || got[0] != "NodesOutOfSync" {
		t.Errorf("True to False: %v", got)
	}
	if got := reasons(status.Transitions(cond(metav1.ConditionFalse), cond(metav1.ConditionTrue))); len(got) != 1 || got[0] != "NodesInSync" {
		t.Errorf("False to True: %v", got)
	}
	if got := reasons(status.Transitions(cond(metav1.ConditionTrue), cond(metav1.ConditionTrue))); len(got) != 0 {
		t.Errorf("no transition: %v", got)
	}
	if got := reasons(status.Transitions(nil, cond(metav1.ConditionTrue))); len(got) != 0 {
		t.Errorf("first verdict: %v", got)
	}
}
