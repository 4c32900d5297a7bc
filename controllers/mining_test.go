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

package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

func TestPlanMiningMinesTheInitialBlocksOnceAndThenAtTheInterval(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	initial := &v1alpha1.RegtestSpec{InitialBlocks: 101}
	moving := &v1alpha1.RegtestSpec{InitialBlocks: 101, BlockInterval: &metav1.Duration{Duration: time.Minute}}
	for _, c := range []struct {
		name      string
		spec      *v1alpha1.RegtestSpec
		recorded  int64
		connected bool
		height    int64
		last      time.Time
		want      miningStep
	}{
		{"not connected yet: nothing", initial, 0, false, 0, time.Time{}, miningStep{}},
		{"first chunk of the initial blocks", initial, 0, true, 0, time.Time{}, miningStep{blocks: 100}},
		{"the rest, which completes them", initial, 0, true, 100, time.Time{}, miningStep{blocks: 1, initialDone: 101}},
		{"a chain already high enough is recorded, not mined", initial, 0, true, 150, time.Time{}, miningStep{initialDone: 150}},
		{"recorded: never again, even on a chain that was reset", initial, 101, true, 0, time.Time{}, miningStep{}},
		{"recorded, no interval: nothing", initial, 101, true, 101, now.Add(-time.Hour), miningStep{}},
		{"interval due", moving, 101, true, 101, now.Add(-time.Minute), miningStep{blocks: 1, wait: time.Minute}},
		{"interval not due", moving, 101, true, 101, now.Add(-20 * time.Second), miningStep{wait: 40 * time.Second}},
		{"interval waits for the initial blocks", moving, 0, true, 5, time.Time{}, miningStep{blocks: 96, initialDone: 101}},
		{"interval only while connected", moving, 101, false, 101, now.Add(-time.Hour), miningStep{}},
		{"no initial blocks, interval from the start", &v1alpha1.RegtestSpec{BlockInterval: &metav1.Duration{Duration: time.Second}}, 0, true, 0, time.Time{}, miningStep{blocks: 1, wait: time.Second}},
	} {
		if got := planMining(c.spec, c.recorded, c.connected, c.height, c.last, now); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// Outcomes holding times (the last block mined) compare without panicking,
// and a new block is a change.
func TestOutcomesWithTimesCompare(t *testing.T) {
	at := time.Now().Round(0)
	outcome := func(height int64, when time.Time) *status.Peering {
		return &status.Peering{Nodes: map[string]status.NodePeering{"a-0": {BlockHeight: height}},
			Sync:   &status.Sync{Status: metav1.ConditionTrue, Reason: status.ReasonAtSameTip},
			Mining: &status.Mining{LastBlockHeight: height, LastBlockTime: when}}
	}
	last := &peerResult{generation: 1, status: outcome(5, at)}
	if outcomeChanged(last, 1, outcome(5, at)) {
		t.Error("the same outcome counts as a change")
	}
	if !outcomeChanged(last, 1, outcome(6, at.Add(time.Second))) {
		t.Error("a new block does not count as a change")
	}
	if !outcomeChanged(last, 2, outcome(5, at)) || !outcomeChanged(nil, 1, outcome(5, at)) {
		t.Error("a new generation or a first outcome does not count as a change")
	}
}
