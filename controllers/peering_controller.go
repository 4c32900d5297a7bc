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
	"context"
	"reflect"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// The peer network is verified and repaired by its own controller, off the
// object reconcile path: node RPC can be slow or hostile, and must delay
// neither the objects and status of other networks nor the wiring of this
// network's healthy nodes. The object reconciler publishes how to reach the
// nodes (credentials, CA) to the peerStore and reads the last pass's outcome
// from it; each side wakes the other through a channel source.

// DefaultNetworkConcurrency is how many networks' peers are checked at once.
const DefaultNetworkConcurrency = 4

// suspectTimeout is how long a node whose last observation timed out gets in
// a pass; a background probe with the full deadline brings it back.
const suspectTimeout = time.Second

// peerStore holds what the two controllers share, per network.
type peerStore struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*peerState
}

type peerState struct {
	// access is set by the object reconciler once the credentials are
	// known; accessKey tells a change of them.
	access    *nodeAccess
	accessKey string
	// result is the last pass's outcome, for the spec generation it ran on.
	result *peerResult
	// repaired accumulates, per node, repairs not yet seen by a status
	// write (for the PeersRepaired event).
	repaired map[string]int
	// record is the last pass's address record (see peering.Report.Record):
	// it covers what the status may not show yet.
	record []string
	// suspects are pods whose last observation timed out; probing those
	// being probed in the background.
	suspects, probing map[string]bool
	progress          peering.Progress
	// versions holds each node process's user agent, by pod name and IP
	// (asked once per process, not every pass).
	versions map[string]string
	// syncSince is when the nodes were first seen to differ (see
	// status.AssessSync).
	syncSince time.Time
	// mining is what the operator mined, kept between passes.
	mining status.Mining
}

type peerResult struct {
	generation int64
	status     *status.Peering
}

func (s *peerStore) with(key types.NamespacedName, f func(*peerState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[types.NamespacedName]*peerState{}
	}
	st, ok := s.m[key]
	if !ok {
		st = &peerState{suspects: map[string]bool{}, probing: map[string]bool{}, repaired: map[string]int{}, versions: map[string]string{}}
		s.m[key] = st
	}
	f(st)
}

func (s *peerStore) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

// publishAccess records how to reach a network's nodes and reports whether
// that changed (the peering controller must then run).
func (s *peerStore) publishAccess(key types.NamespacedName, a nodeAccess) (changed bool) {
	k := a.credentials.User + "\x00" + a.credentials.Password + "\x00" + string(a.caPEM) + "\x00" + a.miningAddress
	s.with(key, func(st *peerState) {
		changed = st.access == nil || st.accessKey != k
		st.access, st.accessKey = &a, k
	})
	return changed
}

// takeResult returns the last pass's outcome for generation (nil if none
// ran on it yet) and the repairs not reported yet; give them back with
// returnRepaired if the status write fails.
func (s *peerStore) takeResult(key types.NamespacedName, generation int64) (p *status.Peering, repaired map[string]int) {
	s.with(key, func(st *peerState) {
		if st.result != nil && st.result.generation == generation {
			p = st.result.status
			repaired, st.repaired = st.repaired, map[string]int{}
		}
	})
	return p, repaired
}

func (s *peerStore) returnRepaired(key types.NamespacedName, repaired map[string]int) {
	s.with(key, func(st *peerState) {
		for k, v := range repaired {
			st.repaired[k] += v
		}
	})
}

// peeringReconciler runs the verify-and-repair passes.
type peeringReconciler struct {
	*BitcoinNetworkReconciler
	// wakeNetwork makes the object reconciler write a new pass's outcome.
	wakeNetwork chan<- event.GenericEvent
	// wakePeering starts a pass (access published, a suspect answered).
	wakePeering chan<- event.GenericEvent
}

// Reconcile checks and repairs one network's peers.
func (p *peeringReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx = logf.IntoContext(ctx, logf.FromContext(ctx).WithValues("network", req.Name))
	n := &v1alpha1.BitcoinNetwork{}
	if err := p.Client.Get(ctx, req.NamespacedName, n); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !n.DeletionTimestamp.IsZero() || n.Spec.Topology == v1alpha1.TopologyNone {
		return ctrl.Result{}, nil
	}
	var access *nodeAccess
	p.store.with(req.NamespacedName, func(st *peerState) { access = st.access })
	if access == nil {
		// The object reconciler wakes this one once it has the credentials.
		return ctrl.Result{}, nil
	}
	sts, err := p.cachedStatefulSet(ctx, n)
	if err != nil {
		return ctrl.Result{}, err
	}
	pods, err := p.nodePods(ctx, n, sts)
	if err != nil {
		return ctrl.Result{}, err
	}
	check, err := p.checkPeers(ctx, n, pods, *access)
	if err != nil {
		return ctrl.Result{}, err
	}
	peerChecks.WithLabelValues(n.Namespace, n.Name).Inc()
	if check.changes > 0 {
		peerRepairs.WithLabelValues(n.Namespace, n.Name).Add(float64(check.changes))
	}
	changed := false
	p.store.with(req.NamespacedName, func(st *peerState) {
		changed = outcomeChanged(st.result, n.Generation, check.status)
		st.result = &peerResult{generation: n.Generation, status: check.status}
		for k, v := range check.repaired {
			st.repaired[k] += v
			changed = true
		}
	})
	if changed {
		wake(ctx, p.wakeNetwork, n)
	}
	return ctrl.Result{RequeueAfter: check.after}, nil
}

// probeSuspects calls each suspect node once with the full deadline, in
// the background, and wakes the peering controller when one answers.
func (p *peeringReconciler) probeSuspects(n *v1alpha1.BitcoinNetwork, nodes map[string]bitcoin.Node) {
	key := types.NamespacedName{Namespace: n.Namespace, Name: n.Name}
	for name, node := range nodes {
		start := false
		p.store.with(key, func(st *peerState) {
			start = st.suspects[name] && !st.probing[name]
			if start {
				st.probing[name] = true
			}
		})
		if !start {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), p.Peers.rpcTimeout())
			defer cancel()
			_, err := node.BlockCount(ctx)
			p.store.with(key, func(st *peerState) {
				delete(st.probing, name)
				if err == nil {
					delete(st.suspects, name)
				}
			})
			if err == nil {
				wake(ctx, p.wakePeering, n)
			}
		}()
	}
}

// wake queues a network on a controller's channel source, waiting at most
// as long as ctx allows (the source drains the channel continuously).
func wake(ctx context.Context, ch chan<- event.GenericEvent, n *v1alpha1.BitcoinNetwork) {
	obj := &v1alpha1.BitcoinNetwork{}
	obj.Namespace, obj.Name = n.Namespace, n.Name
	select {
	case ch <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	case <-time.After(time.Minute):
	}
}

// setupPeering registers the peering controller; wakeNetwork is the object
// reconciler's channel.
func (r *BitcoinNetworkReconciler) setupPeering(mgr ctrl.Manager, wakeNetwork chan<- event.GenericEvent) error {
	wakePeering := make(chan event.GenericEvent, 64)
	r.wakePeering = wakePeering
	p := &peeringReconciler{BitcoinNetworkReconciler: r, wakeNetwork: wakeNetwork, wakePeering: wakePeering}
	return ctrl.NewControllerManagedBy(mgr).
		Named("bitcoinnetwork-peering").
		For(&v1alpha1.BitcoinNetwork{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(networkOfPod)).
		WatchesRawSource(source.Channel(wakePeering, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{RateLimiter: retryLimiter(), MaxConcurrentReconciles: max(r.Peers.NetworkConcurrency, 1)}).
		Complete(p)
}

// suspectOrdinals maps the store's suspect pod names to ordinals.
func suspectOrdinals(suspects map[string]bool, names map[int]string) map[int]bool {
	out := map[int]bool{}
	for o, name := range names {
		if suspects[name] {
			out[o] = true
		}
	}
	return out
}

// outcomeChanged reports whether a pass's outcome differs from the last
// one, so the status must be written again. reflect.DeepEqual, not
// apimachinery's semantic equality, which panics on a time.Time's
// unexported fields (status.Mining holds one).
func outcomeChanged(last *peerResult, generation int64, p *status.Peering) bool {
	return last == nil || last.generation != generation || !reflect.DeepEqual(last.status, p)
}
