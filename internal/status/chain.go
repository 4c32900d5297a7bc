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
	"math/big"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of the InSync condition.
const (
	ReasonAtSameTip        = "AtSameTip"
	ReasonPropagating      = "BlockPropagating"
	ReasonBehind           = "Behind"
	ReasonCatchingUp       = "CatchingUp"
	ReasonForked           = "Forked"
	ReasonInitialDownload  = "InitialBlockDownload"
	ReasonNodeNotAnswering = "NodeNotAnswering"
	ReasonNoChainAnswers   = "NoNodeAnswered"
	// ReasonPartitioned: a BitcoinNetworkFault keeps the nodes apart.
	ReasonPartitioned = "Partitioned"
)

// SyncGrace is how long nodes behind the tip still count as in sync: a new
// block, or a batch of them, takes a moment to reach every node.
const SyncGrace = 10 * time.Second

// Place is where a node's best block stands on the tip's chain, as the node
// at the tip sees it.
type Place int

// The places of a node's best block.
const (
	// PlaceUnchecked: not asked (or the node at the tip did not answer).
	PlaceUnchecked Place = iota
	// PlaceOnTipChain: an ancestor of the tip: the node is behind.
	PlaceOnTipChain
	// PlaceOffTipChain: on another branch, or unknown to the node at the
	// tip (which knows every block of its own chain): a fork.
	PlaceOffTipChain
)

// NodeChain is one ready node's chain, as a pass read it.
type NodeChain struct {
	Name string
	// Err is why the node gave no answer ("" when it answered).
	Err     string
	Height  int64
	Headers int64
	Hash    string
	// Work is the best chain's total work; nil where the node does not
	// report it (btcd): heights are compared then.
	Work *big.Int
	// InitialBlockDownload is what the node says of itself.
	InitialBlockDownload bool
	// Difficulty is its best block's, as the node reports it.
	Difficulty float64
	// Place is where the node at the tip puts this node's best block.
	Place Place
	// Progressed is true when the node's height grew since the last pass.
	Progressed bool
}

func (c NodeChain) answered() bool { return c.Err == "" && c.Hash != "" }

// more reports whether a's chain has more work than b's: by work where both
// report it, else by height.
func more(a, b NodeChain) bool {
	if a.Work != nil && b.Work != nil {
		return a.Work.Cmp(b.Work) > 0
	}
	return a.Height > b.Height
}

// BestTip is the answering node whose chain has the most work (heights
// where a node reports no work); among equals, the first by name. ok is
// false when no node answered.
func BestTip(nodes []NodeChain) (tip NodeChain, ok bool) {
	for _, n := range nodes {
		if n.answered() && (!ok || more(n, tip) || (!more(tip, n) && n.Name < tip.Name)) {
			tip, ok = n, true
		}
	}
	return tip, ok
}

// Sync is a pass's verdict on whether the nodes agree.
type Sync struct {
	Status          metav1.ConditionStatus
	Reason, Message string
	// Since is when the nodes were first seen to differ; zero while they
	// agree. The next pass passes it back to AssessSync.
	Since time.Time
	// Recheck, when set, is how soon the verdict changes by itself (the
	// grace of nodes behind the tip runs out): the caller looks again then.
	Recheck time.Duration
}

// AssessSync compares the ready nodes' chains. A node on another branch
// than the tip's, or with a different tip of equal work, is Forked. A node
// behind the tip is given SyncGrace from since (when the nodes were first
// seen to differ); after it, one that still downloads (headers ahead of
// blocks, or a height that grew since the last pass) is CatchingUp, one
// that does not is Behind. A ready node that gave no answer makes the
// verdict Unknown. Nodes at one tip of which some are in initial block
// download (they ignore transactions) are not in sync either.
func AssessSync(nodes []NodeChain, since, now time.Time) Sync {
	tip, ok := BestTip(nodes)
	if !ok {
		return Sync{Status: metav1.ConditionUnknown, Reason: ReasonNoChainAnswers, Message: noAnswerMessage(nodes)}
	}
	var forked, behind, catching, silent, ibd []NodeChain
	for _, n := range nodes {
		switch {
		case !n.answered():
			silent = append(silent, n)
		case n.Hash == tip.Hash:
			if n.InitialBlockDownload {
				ibd = append(ibd, n)
			}
		case !more(tip, n) || n.Place == PlaceOffTipChain || (n.Place == PlaceUnchecked && n.Height >= tip.Height):
			forked = append(forked, n)
		case n.Headers > n.Height || n.Progressed:
			catching = append(catching, n)
		default:
			behind = append(behind, n)
		}
	}
	differ := len(forked) + len(behind) + len(catching)
	if differ == 0 {
		since = time.Time{}
	} else if since.IsZero() {
		since = now
	}
	inGrace := differ > 0 && now.Sub(since) < SyncGrace
	s := Sync{Since: since}
	at := fmt.Sprintf("%d (%s)", tip.Height, ShortHash(tip.Hash))
	switch {
	case len(forked) > 0:
		s.Status, s.Reason = metav1.ConditionFalse, ReasonForked
		s.Message = fmt.Sprintf("Nodes on different chains: tip %s on %s; %s.", at, strings.Join(names(nodesAt(nodes, tip.Hash)), ", "), describe(forked, "on another chain"))
	case len(silent) > 0:
		s.Status, s.Reason = metav1.ConditionUnknown, ReasonNodeNotAnswering
		s.Message = fmt.Sprintf("%s; %d of %d ready nodes answered, tip %s.", describeSilent(silent), len(nodes)-len(silent), len(nodes), at)
	case inGrace:
		s.Status, s.Reason = metav1.ConditionTrue, ReasonPropagating
		s.Message = fmt.Sprintf("Block %s is reaching %d of %d ready nodes.", at, differ, len(nodes))
		s.Recheck = SyncGrace - now.Sub(since)
	case len(behind) > 0:
		s.Status, s.Reason = metav1.ConditionFalse, ReasonBehind
		s.Message = fmt.Sprintf("Tip %s on %s; %s.", at, tip.Name, describe(append(behind, catching...), "behind"))
	case len(catching) > 0:
		s.Status, s.Reason = metav1.ConditionFalse, ReasonCatchingUp
		s.Message = fmt.Sprintf("Tip %s on %s; %s, downloading.", at, tip.Name, describe(catching, "behind"))
	case len(ibd) > 0:
		s.Status, s.Reason = metav1.ConditionFalse, ReasonInitialDownload
		s.Message = fmt.Sprintf("All %d ready nodes are at %s, but %s in initial block download: a node in it ignores transactions until it has a recent block.",
			len(nodes), at, strings.Join(names(ibd), ", ")+map[bool]string{true: " is", false: " are"}[len(ibd) == 1])
	default:
		s.Status, s.Reason = metav1.ConditionTrue, ReasonAtSameTip
		s.Message = fmt.Sprintf("All %d ready nodes are at height %d (%s).", len(nodes), tip.Height, ShortHash(tip.Hash))
	}
	return s
}

func names(nodes []NodeChain) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return out
}

func nodesAt(nodes []NodeChain, hash string) []NodeChain {
	var out []NodeChain
	for _, n := range nodes {
		if n.answered() && n.Hash == hash {
			out = append(out, n)
		}
	}
	return out
}

// describe lists nodes with their heights and best blocks.
func describe(nodes []NodeChain, what string) string {
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b NodeChain) int { return strings.Compare(a.Name, b.Name) })
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		parts = append(parts, fmt.Sprintf("%s at %d (%s, %s)", n.Name, n.Height, ShortHash(n.Hash), what))
	}
	return strings.Join(parts, ", ")
}

func describeSilent(nodes []NodeChain) string {
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b NodeChain) int { return strings.Compare(a.Name, b.Name) })
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		parts = append(parts, fmt.Sprintf("%s did not answer (%s)", n.Name, n.Err))
	}
	return strings.Join(parts, ", ")
}

func noAnswerMessage(nodes []NodeChain) string {
	if len(nodes) == 0 {
		return "No node is ready."
	}
	return fmt.Sprintf("None of the %d ready nodes answered: %s.", len(nodes), describeSilent(nodes))
}

// ShortHash is a block hash shortened for messages and columns: the
// leading zeros of a block hash tell blocks apart poorly, so the end is kept.
func ShortHash(hash string) string {
	if len(hash) <= 12 {
		return hash
	}
	return "…" + hash[len(hash)-12:]
}

// warns are the InSync reasons that deserve a Warning: the nodes disagree
// and are not getting closer. A node catching up, or in initial block
// download, is on its way.
var warns = []string{ReasonBehind, ReasonForked}

// syncEvent is the event for an InSync transition, if any.
func syncEvent(old, new *metav1.Condition) *Event {
	if new == nil {
		return nil
	}
	switch {
	case new.Status == metav1.ConditionTrue && old != nil && old.Status != metav1.ConditionTrue:
		return &Event{Type: corev1.EventTypeNormal, Reason: "NodesInSync", Action: "CheckChain", Message: new.Message}
	case slices.Contains(warns, new.Reason) && (old == nil || old.Reason != new.Reason):
		return &Event{Type: corev1.EventTypeWarning, Reason: "NodesOutOfSync", Action: "CheckChain", Message: new.Message}
	}
	return nil
}
