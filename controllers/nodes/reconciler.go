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

// Package nodes is the node controller: everything the operator does over
// the nodes' RPC. Each pass verifies and repairs a network's peer graph,
// reads every ready node's chain, judges whether they agree, and mines a
// regtest network's blocks. It runs off the object controller's path: a
// slow or hostile node delays only its own network's passes. The object
// controller publishes how to reach the nodes (netstate.Access) and writes
// each pass's outcome into the status.
package nodes

import (
	"context"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// DefaultNetworkConcurrency is how many networks' nodes are checked at once.
const DefaultNetworkConcurrency = 4

// DefaultCheckInterval is the default period of the passes.
const DefaultCheckInterval = 30 * time.Second

// Options configure how the operator talks to the nodes.
type Options struct {
	// RPCTimeout bounds each RPC call (default bitcoin.DefaultTimeout).
	RPCTimeout time.Duration
	// CheckInterval is how often a network's nodes are checked when
	// nothing changes, unless the network sets spec.peerCheckInterval.
	CheckInterval time.Duration
	// Concurrency bounds the nodes of one network called at once.
	Concurrency int
	// NetworkConcurrency bounds the networks checked at once (default
	// DefaultNetworkConcurrency).
	NetworkConcurrency int
	// MineTimeout bounds a mining call (default: RPCTimeout plus
	// bitcoin.MineTimeout).
	MineTimeout time.Duration
}

// RPCTimeout is the deadline of one RPC call.
func (o Options) rpcTimeout() time.Duration {
	if o.RPCTimeout > 0 {
		return o.RPCTimeout
	}
	return bitcoin.DefaultTimeout
}

func (o Options) mineTimeout() time.Duration {
	if o.MineTimeout > 0 {
		return o.MineTimeout
	}
	return o.rpcTimeout() + bitcoin.MineTimeout
}

// Reconciler runs the passes.
type Reconciler struct {
	// Client reads from the operator's cache.
	Client  client.Client
	Options Options
	// States is what this controller shares with the object controller.
	States *netstate.Store
	// Wake is this controller's channel (the object controller and the
	// background probes send on WakeSelf); WakeObjects makes the object
	// controller write a pass's outcome.
	Wake        <-chan event.GenericEvent
	WakeSelf    chan<- event.GenericEvent
	WakeObjects chan<- event.GenericEvent
}

// Reconcile runs one pass over a network's nodes.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx = logf.IntoContext(ctx, logf.FromContext(ctx).WithValues("network", req.Name))
	n := &v1alpha1.BitcoinNetwork{}
	if err := r.Client.Get(ctx, req.NamespacedName, n); err != nil || !n.DeletionTimestamp.IsZero() {
		// The object controller forgets a network that is gone.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	st := r.States.Get(n.UID)
	var access *netstate.Access
	if st != nil {
		st.Update(func(d *netstate.Data) { access = d.Access })
	}
	if access == nil {
		// The object controller wakes this one once it has the credentials.
		return ctrl.Result{}, nil
	}
	out, err := r.runPass(ctx, n, st, *access)
	result := &netstate.Result{Generation: n.Generation, Plan: netstate.PlanKey(n)}
	if err != nil {
		// The status says so at once; the pass is retried with backoff.
		result.Err = err.Error()
	} else {
		result.Status = out.status
	}
	changed := false
	st.Update(func(d *netstate.Data) {
		changed = resultChanged(d.Result, result)
		d.Result = result
		if out != nil {
			metrics.RecordPeerCheck(n.Namespace, n.Name, out.changes)
			for k, v := range out.repaired {
				d.Repaired[k] += v
				changed = true
			}
		}
	})
	if changed {
		netstate.Wake(ctx, r.WakeObjects, req.NamespacedName)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: out.after}, nil
}

// resultChanged reports whether a pass's result differs from the last one,
// so the status must be written again. reflect.DeepEqual, not
// apimachinery's semantic equality, which panics on a time.Time's
// unexported fields (status.Mining holds one).
func resultChanged(last, next *netstate.Result) bool {
	return last == nil || !reflect.DeepEqual(*last, *next)
}

// SetupWithManager registers the node controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("bitcoinnetwork-peering").
		For(&v1alpha1.BitcoinNetwork{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(netstate.NetworkOfPod)).
		// A fault's phase decides what a pass enforces.
		Watches(&v1alpha1.BitcoinNetworkFault{}, handler.EnqueueRequestsFromMapFunc(netstate.NetworkOfFault)).
		WatchesRawSource(source.Channel(r.Wake, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{RateLimiter: netstate.RetryLimiter(), MaxConcurrentReconciles: max(r.Options.NetworkConcurrency, 1)}).
		Complete(r)
}

// checkInterval is how often a network's nodes are checked when nothing
// changes.
func (r *Reconciler) checkInterval(n *v1alpha1.BitcoinNetwork) time.Duration {
	switch {
	case n.Spec.PeerCheckInterval != nil:
		return n.Spec.PeerCheckInterval.Duration
	case r.Options.CheckInterval > 0:
		return r.Options.CheckInterval
	}
	return DefaultCheckInterval
}

// outcome is what a pass saw and did.
type outcome struct {
	status *status.Peering
	// repaired counts, per node, the planned peers it was given that the
	// previous pass had not already tried (see peering.Progress); changes
	// counts those adds and the removals alike.
	repaired map[string]int
	changes  int
	// after is when to run the next pass.
	after time.Duration
}
