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

package peering

import (
	"slices"
	"time"
)

// Timing of the next pass after a repair pass.
const (
	// RecheckAfterRepair is how soon a pass that did new work is checked.
	RecheckAfterRepair = 2 * time.Second
	// RecheckWhileWaiting bounds the wait while edges wait for nodes to
	// become ready (pod readiness changes also trigger a pass).
	RecheckWhileWaiting = 5 * time.Second
)

// Progress is what the operator remembers of a network's last repair pass,
// to tell repairs that change something from the same ones made again (a
// peer that cannot accept connections gets the same "add" every pass).
type Progress struct {
	// actions are the adds and removes of the last pass, per node.
	actions map[int]Actions
	// connected are the connected edges after the last pass.
	connected int
	// delay is the wait before the last pass's follow-up.
	delay time.Duration
}

// Next returns what this pass changed (its actions that the last pass did
// not already make, per node), the peers each node was given last pass
// that are still not connected (a connection attempt answers nothing of
// its outcome: this pass's observation tells), when to check again, and
// the progress to remember. A pass that did new work, or found more edges
// up than the last one, is checked again soon; one that repeats the last
// pass's work without progress backs off exponentially, up to interval.
func (p Progress) Next(r Report, interval time.Duration) (changed, unconnected map[int]Actions, after time.Duration, next Progress) {
	changed, unconnected = map[int]Actions{}, map[int]Actions{}
	next = Progress{actions: map[int]Actions{}, connected: r.ConnectedEdges}
	for ordinal, nr := range r.Nodes {
		next.actions[ordinal] = Actions{Add: nr.Added, Remove: nr.Removed}
		before := p.actions[ordinal]
		var c, u Actions
		for _, a := range nr.Added {
			if !slices.Contains(before.Add, a) {
				c.Add = append(c.Add, a)
			} else {
				u.Add = append(u.Add, a)
			}
		}
		if len(u.Add) > 0 {
			unconnected[ordinal] = u
		}
		for _, a := range nr.Removed {
			if !slices.Contains(before.Remove, a) {
				c.Remove = append(c.Remove, a)
			}
		}
		if len(c.Add) > 0 || len(c.Remove) > 0 {
			changed[ordinal] = c
		}
	}
	switch {
	case r.ConnectedEdges < r.PlannedEdges && (len(changed) > 0 || r.ConnectedEdges > p.connected || p.delay == 0):
		next.delay = RecheckAfterRepair
	case r.ConnectedEdges < r.PlannedEdges:
		next.delay = min(2*p.delay, interval)
	case r.WaitingEdges > 0:
		next.delay = min(interval, RecheckWhileWaiting)
	default:
		next.delay = interval
	}
	return changed, unconnected, next.delay, next
}
