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
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

func h(s string) string { return strings.Repeat("0", 60) + s }

func work(w int64) *big.Int { return big.NewInt(w) }

func TestAssessSync(t *testing.T) {
	now := time.Now()
	at := func(name string, height int64, hash string) status.NodeChain {
		return status.NodeChain{Name: name, Height: height, Headers: height, Hash: h(hash), Work: work(2 * (height + 1))}
	}
	onTip := func(c status.NodeChain) status.NodeChain { c.Place = status.PlaceOnTipChain; return c }
	for _, c := range []struct {
		name   string
		nodes  []status.NodeChain
		since  time.Time
		status metav1.ConditionStatus
		reason string
		says   []string // in the message
		not    []string
	}{
		{"same tip", []status.NodeChain{at("n-0", 7, "aaaa"), at("n-1", 7, "aaaa")}, time.Time{},
			metav1.ConditionTrue, status.ReasonAtSameTip, []string{"All 2 ready nodes are at height 7"}, nil},
		{"no ready node", nil, time.Time{}, metav1.ConditionUnknown, status.ReasonNoChainAnswers, []string{"No node is ready"}, nil},
		{"a block propagating", []status.NodeChain{at("n-0", 8, "bbbb"), onTip(at("n-1", 7, "aaaa"))}, time.Time{},
			metav1.ConditionTrue, status.ReasonPropagating, []string{"Block 8", "1 of 2 ready nodes"}, nil},
		{"a batch propagating: many blocks behind, within the grace", []status.NodeChain{at("n-0", 101, "bbbb"), onTip(at("n-1", 1, "aaaa"))}, now.Add(-time.Second),
			metav1.ConditionTrue, status.ReasonPropagating, nil, nil},
		{"behind past the grace, not moving", []status.NodeChain{at("n-0", 8, "bbbb"), onTip(at("n-1", 7, "aaaa"))}, now.Add(-status.SyncGrace),
			metav1.ConditionFalse, status.ReasonBehind, []string{"n-1 at 7", "Tip 8", "behind"}, nil},
		{"downloading past the grace: catching up", []status.NodeChain{at("n-0", 20, "cccc"), func() status.NodeChain { c := onTip(at("n-1", 3, "aaaa")); c.Headers = 20; return c }()}, now.Add(-time.Minute),
			metav1.ConditionFalse, status.ReasonCatchingUp, []string{"n-1 at 3", "downloading"}, nil},
		{"height grew since the last pass (btcd reports no headers ahead): catching up", []status.NodeChain{at("n-0", 20, "cccc"), func() status.NodeChain { c := onTip(at("n-1", 9, "aaaa")); c.Progressed = true; return c }()}, now.Add(-time.Minute),
			metav1.ConditionFalse, status.ReasonCatchingUp, nil, nil},
		{"equal work, different tips: a fork at once", []status.NodeChain{at("n-0", 9, "dddd"), at("n-1", 9, "eeee")}, time.Time{},
			metav1.ConditionFalse, status.ReasonForked, []string{"tip 9 (…00000000dddd) on n-0", "n-1 at 9 (…00000000eeee, on another chain)"}, nil},
		{"a shorter branch the tip's node does not have: a fork, not behind", []status.NodeChain{at("n-0", 9, "dddd"), at("n-2", 9, "dddd"), func() status.NodeChain { c := at("n-1", 8, "eeee"); c.Place = status.PlaceOffTipChain; return c }()}, time.Time{},
			metav1.ConditionFalse, status.ReasonForked, []string{"on n-0, n-2", "n-1 at 8"}, nil},
		{"the tip is the chain with most work, not the highest", []status.NodeChain{{Name: "n-0", Height: 10, Hash: h("aaaa"), Work: work(20)}, {Name: "n-1", Height: 9, Hash: h("bbbb"), Work: work(30), Headers: 9}}, time.Time{},
			metav1.ConditionFalse, status.ReasonForked, []string{"tip 9 (…00000000bbbb) on n-1", "n-0 at 10"}, nil},
		{"btcd reports no work: heights decide", []status.NodeChain{{Name: "n-0", Height: 10, Headers: 10, Hash: h("aaaa")}, {Name: "n-1", Height: 9, Headers: 9, Hash: h("bbbb"), Place: status.PlaceOnTipChain}}, now.Add(-time.Minute),
			metav1.ConditionFalse, status.ReasonBehind, []string{"Tip 10 (…00000000aaaa) on n-0"}, nil},
		{"a ready node that does not answer: unknown, named, counted among the ready", []status.NodeChain{at("n-0", 5, "aaaa"), at("n-1", 5, "aaaa"), {Name: "n-2", Err: "RPC call timed out"}}, time.Time{},
			metav1.ConditionUnknown, status.ReasonNodeNotAnswering, []string{"n-2 did not answer (RPC call timed out)", "2 of 3 ready nodes answered"}, []string{"All 2"}},
		{"no ready node answers", []status.NodeChain{{Name: "n-0", Err: "x"}}, time.Time{}, metav1.ConditionUnknown, status.ReasonNoChainAnswers, []string{"n-0 did not answer"}, nil},
		{"at one tip, in initial block download", []status.NodeChain{func() status.NodeChain { c := at("n-0", 0, "aaaa"); c.InitialBlockDownload = true; return c }(), at("n-1", 0, "aaaa")}, time.Time{},
			metav1.ConditionFalse, status.ReasonInitialDownload, []string{"n-0 is in initial block download"}, nil},
	} {
		s := status.AssessSync(c.nodes, c.since, now)
		if s.Status != c.status || s.Reason != c.reason {
			t.Errorf("%s: %s/%s (%s), want %s/%s", c.name, s.Status, s.Reason, s.Message, c.status, c.reason)
		}
		for _, w := range c.says {
			if !strings.Contains(s.Message, w) {
				t.Errorf("%s: message %q lacks %q", c.name, s.Message, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(s.Message, w) {
				t.Errorf("%s: message %q says %q", c.name, s.Message, w)
			}
		}
	}
}

// The grace for nodes behind ends on time: the verdict says when, and the
// nodes that first differed keep their start.
func TestTheGraceEndsOnTime(t *testing.T) {
	now := time.Now()
	nodes := []status.NodeChain{{Name: "n-0", Height: 8, Headers: 8, Hash: h("bbbb"), Work: work(18)}, {Name: "n-1", Height: 7, Headers: 7, Hash: h("aaaa"), Work: work(16), Place: status.PlaceOnTipChain}}
	first := status.AssessSync(nodes, time.Time{}, now)
	if !first.Since.Equal(now) || first.Recheck != status.SyncGrace {
		t.Fatalf("first look: since %v recheck %v, want now and %v", first.Since, first.Recheck, status.SyncGrace)
	}
	later := status.AssessSync(nodes, first.Since, now.Add(4*time.Second))
	if later.Status != metav1.ConditionTrue || later.Recheck != status.SyncGrace-4*time.Second {
		t.Errorf("4 s later: %+v, want True with a recheck in %v", later, status.SyncGrace-4*time.Second)
	}
	if end := status.AssessSync(nodes, first.Since, now.Add(later.Recheck+4*time.Second)); end.Status != metav1.ConditionFalse || end.Recheck != 0 {
		t.Errorf("at the grace's end: %+v, want False", end)
	}
}

func TestInSyncTransitionsAreEvents(t *testing.T) {
	cond := func(s metav1.ConditionStatus, reason string) []metav1.Condition {
		return []metav1.Condition{{Type: v1alpha1.ConditionInSync, Status: s, Reason: reason, Message: "m"}}
	}
	reasons := func(events []status.Event) (out []string) {
		for _, e := range events {
			out = append(out, e.Type+"/"+e.Reason)
		}
		return out
	}
	for _, c := range []struct {
		name     string
		old, new []metav1.Condition
		want     []string
	}{
		{"in sync to behind", cond(metav1.ConditionTrue, status.ReasonAtSameTip), cond(metav1.ConditionFalse, status.ReasonBehind), []string{"Warning/NodesOutOfSync"}},
		{"in sync to forked", cond(metav1.ConditionTrue, status.ReasonAtSameTip), cond(metav1.ConditionFalse, status.ReasonForked), []string{"Warning/NodesOutOfSync"}},
		{"catching up to behind", cond(metav1.ConditionFalse, status.ReasonCatchingUp), cond(metav1.ConditionFalse, status.ReasonBehind), []string{"Warning/NodesOutOfSync"}},
		{"in sync to catching up: no warning", cond(metav1.ConditionTrue, status.ReasonAtSameTip), cond(metav1.ConditionFalse, status.ReasonCatchingUp), nil},
		{"in sync to initial block download: no warning", cond(metav1.ConditionTrue, status.ReasonAtSameTip), cond(metav1.ConditionFalse, status.ReasonInitialDownload), nil},
		{"behind to in sync", cond(metav1.ConditionFalse, status.ReasonBehind), cond(metav1.ConditionTrue, status.ReasonAtSameTip), []string{"Normal/NodesInSync"}},
		{"not answering to in sync", cond(metav1.ConditionUnknown, status.ReasonNodeNotAnswering), cond(metav1.ConditionTrue, status.ReasonAtSameTip), []string{"Normal/NodesInSync"}},
		{"no transition", cond(metav1.ConditionTrue, status.ReasonAtSameTip), cond(metav1.ConditionTrue, status.ReasonPropagating), nil},
		{"still behind", cond(metav1.ConditionFalse, status.ReasonBehind), cond(metav1.ConditionFalse, status.ReasonBehind), nil},
		{"first verdict", nil, cond(metav1.ConditionTrue, status.ReasonAtSameTip), nil},
	} {
		if got := reasons(status.Transitions(c.old, c.new)); !slices.Equal(got, c.want) {
			t.Errorf("%s: events %v, want %v", c.name, got, c.want)
		}
	}
}
