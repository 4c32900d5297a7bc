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
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of the InSync condition.
const (
	ReasonAtSameTip      = "AtSameTip"
	ReasonPropagating    = "BlockPropagating"
	ReasonNodesDiffer    = "NodesDiffer"
	ReasonNoChainAnswers = "NoNodeAnswered"
)

// SyncGrace is how long nodes one block behind the others still count as
// in sync: a new block takes a moment to reach every node.
const SyncGrace = 10 * time.Second

// NodeChain is one ready node's best block, as a pass read it.
type NodeChain struct {
	Name   string
	Height int64
	Hash   string
}

// Sync is a pass's verdict on whether the nodes agree.
type Sync struct {
	Status          metav1.ConditionStatus
	Reason, Message string
	// Since is when the nodes were first seen to differ; zero while they
	// agree. The next pass passes it back to AssessSync.
	Since time.Time
}

// AssessSync compares the nodes' best blocks. Nodes one block behind the
// others are given SyncGrace from since (when they were first seen to
// differ); a fork (another block at the same height) or a node further
// behind is reported at once.
func AssessSync(nodes []NodeChain, since, now time.Time) Sync {
	if len(nodes) == 0 {
		return Sync{Status: metav1.ConditionUnknown, Reason: ReasonNoChainAnswers, Message: "No ready node answered."}
	}
	tip := nodes[0]
	for _, n := range nodes[1:] {
		if n.Height > tip.Height || (n.Height == tip.Height && n.Hash < tip.Hash) {
			tip = n
		}
	}
	var differ []NodeChain
	propagating := true
	for _, n := range nodes {
		if n.Hash == tip.Hash {
			continue
		}
		differ = append(differ, n)
		propagating = propagating && n.Height == tip.Height-1
	}
	if len(differ) == 0 {
		return Sync{Status: metav1.ConditionTrue, Reason: ReasonAtSameTip,
			Message: fmt.Sprintf("All %d ready nodes are at height %d (%s).", len(nodes), tip.Height, ShortHash(tip.Hash))}
	}
	if since.IsZero() {
		since = now
	}
	if propagating && now.Sub(since) < SyncGrace {
		return Sync{Status: metav1.ConditionTrue, Reason: ReasonPropagating, Since: since,
			Message: fmt.Sprintf("Block %d (%s) is reaching %d node(s).", tip.Height, ShortHash(tip.Hash), len(differ))}
	}
	slices.SortFunc(differ, func(a, b NodeChain) int { return strings.Compare(a.Name, b.Name) })
	parts := make([]string, 0, len(differ))
	for _, n := range differ {
		what := "behind"
		if n.Height >= tip.Height {
			what = "on another chain"
		}
		parts = append(parts, fmt.Sprintf("%s at %d (%s, %s)", n.Name, n.Height, ShortHash(n.Hash), what))
	}
	return Sync{Status: metav1.ConditionFalse, Reason: ReasonNodesDiffer, Since: since,
		Message: fmt.Sprintf("Tip %d (%s) on %s; %s.", tip.Height, ShortHash(tip.Hash), tip.Name, strings.Join(parts, ", "))}
}

// ShortHash is a block hash shortened for messages and columns: the
// leading zeros of a block hash tell blocks apart poorly, so the end is kept.
func ShortHash(hash string) string {
	if len(hash) <= 12 {
		return hash
	}
	return "…" + hash[len(hash)-12:]
}

// syncEvent is the event for an InSync transition, if any.
func syncEvent(old, new *metav1.Condition) *Event {
	if new == nil || (old != nil && old.Status == new.Status) || new.Status == metav1.ConditionUnknown {
		return nil
	}
	if new.Status == metav1.ConditionTrue {
		if old == nil {
			return nil // the first verdict of a new network is no news
		}
		return &Event{Type: corev1.EventTypeNormal, Reason: "NodesInSync", Action: "CheckChain", Message: new.Message}
	}
	return &Event{Type: corev1.EventTypeWarning, Reason: "NodesOutOfSync", Action: "CheckChain", Message: new.Message}
}
