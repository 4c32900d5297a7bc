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

// Package objects is the object controller: it applies a BitcoinNetwork's
// Kubernetes objects (Secrets, ConfigMap, Service, NetworkPolicy,
// StatefulSet) from the pure renderers in internal/resources, and writes
// the network's status from what they report and the node controller's
// last pass. It never calls a node.
package objects

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// rpcSecretNameField indexes networks by the user Secret they reference, so
// a change to that Secret reconciles exactly those networks.
const rpcSecretNameField = ".spec.rpcSecretName"

// Reconciler turns BitcoinNetworks into running nodes.
type Reconciler struct {
	// Client reads from the operator's cache and writes to the API server.
	Client client.Client
	// APIReader reads user Secrets, which the cache keeps without data.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// DefaultImages are the node images used when spec.image is empty.
	DefaultImages map[v1alpha1.Implementation]string
	// ClusterDomain is the cluster's DNS domain, for node DNS names.
	ClusterDomain string
	// OperatorNamespace is the namespace the operator's pods run in; the
	// nodes' NetworkPolicies admit RPC from there. Empty (the operator runs
	// outside the cluster) means no NetworkPolicies: they would shut the
	// operator out.
	OperatorNamespace string
	// SetVolumeGroup gives pods with persistent storage an fsGroup (see
	// resources.NodeParams.VolumeGroup); false where the cluster assigns
	// one itself (OpenShift).
	SetVolumeGroup bool
	// States is what this controller shares with the node controller.
	States *netstate.Store
	// WakeNodes starts a node controller pass; Wake is this controller's
	// own channel, on which the node controller reports a pass.
	WakeNodes chan<- event.GenericEvent
	Wake      <-chan event.GenericEvent
}

// +kubebuilder:rbac:groups=bitcoin.network-operator.dev,resources=bitcoinnetworks,verbs=get;list;watch
// +kubebuilder:rbac:groups=bitcoin.network-operator.dev,resources=bitcoinnetworks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bitcoin.network-operator.dev,resources=bitcoinnetworks/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=services;configmaps;secrets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile applies a network's objects and records its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Every line about this network carries its name as "network".
	log := logf.FromContext(ctx).WithValues("network", req.Name)
	ctx = logf.IntoContext(ctx, log)
	n := &v1alpha1.BitcoinNetwork{}
	if err := r.Client.Get(ctx, req.NamespacedName, n); err != nil {
		if apierrors.IsNotFound(err) {
			r.States.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !n.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector remove everything.
		r.States.Forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	st := r.States.Track(req.NamespacedName, n.UID)

	applied, applyErr := r.applyNetwork(ctx, n, st)
	if isPreviousNetwork(applyErr) {
		log.Info("waiting for the garbage collector", "reason", applyErr.Error())
		return ctrl.Result{RequeueAfter: waitForPrevious}, nil
	}
	if applyErr != nil {
		// A rejected object is reported (and retried with backoff, as
		// the error is returned); anything else is retried as it is,
		// without a status that claims either way.
		if applied.problem = applyRejection(applyErr); applied.problem == nil {
			return ctrl.Result{}, applyErr
		}
	}
	pods, err := netstate.NetworkPods(ctx, r.Client, n)
	if err != nil {
		return ctrl.Result{}, errors.Join(applyErr, err)
	}
	pass, repaired := r.lastPass(ctx, n, st, applied)
	obs := status.Observed{
		Network: n, Pods: pods, Groups: applied.groups,
		Problem: applied.problem, ClusterDomain: r.ClusterDomain, MiningAddress: applied.access.MiningAddress,
		MinerSecretName: applied.minerSecret,
	}
	if pass != nil {
		obs.Peering, obs.PeeringError = pass.Status, pass.Err
	}
	newStatus := status.Compute(obs)
	st.Update(func(*netstate.Data) { metrics.RecordNetwork(n, newStatus, connections(obs.Peering)) })
	if err := r.writeStatus(ctx, n, newStatus, repaired, pods); err != nil {
		st.Update(func(d *netstate.Data) {
			for k, v := range repaired {
				d.Repaired[k] += v
			}
		})
		if apierrors.IsConflict(err) && applyErr == nil {
			// The cache had not caught up with a write yet (a pass woke
			// this reconcile right after the last one): try again on
			// fresh data, no error to report.
			log.V(1).Info("status changed meanwhile; reconciling again")
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, errors.Join(applyErr, err)
	}
	if applyErr != nil {
		return ctrl.Result{}, applyErr
	}
	if applied.problem != nil {
		// Nothing to retry: the watch on the user's Secret (or a spec
		// change) brings the network back here once it is fixed.
		log.Info("network blocked", "reason", applied.problem.Reason, "message", applied.problem.Message)
	}
	// The node controller wakes this one when a pass changes anything.
	return ctrl.Result{}, nil
}

// lastPass publishes how to reach the nodes to the node controller (waking
// it when that changed) and returns its last pass, when that pass checked
// the plan of this spec (nil otherwise), with the repairs not reported yet.
func (r *Reconciler) lastPass(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network, applied appliedNetwork) (*netstate.Result, map[string]int) {
	if applied.problem != nil {
		return nil, nil
	}
	key := applied.access.Credentials.User + "\x00" + applied.access.Credentials.Password + "\x00" + string(applied.access.CAPEM) + "\x00" + applied.access.MiningAddress
	plan := netstate.PlanKey(n)
	var changed bool
	var pass *netstate.Result
	var repaired map[string]int
	st.Update(func(d *netstate.Data) {
		if changed = d.Access == nil || d.AccessKey != key; changed {
			access := applied.access
			d.Access, d.AccessKey = &access, key
		}
		if d.Result != nil && d.Result.Plan == plan {
			pass = d.Result
			repaired, d.Repaired = d.Repaired, map[string]int{}
		}
	})
	if changed || pass == nil || pass.Generation != n.Generation {
		netstate.Wake(ctx, r.WakeNodes, st.Key)
	}
	return pass, repaired
}

func connections(p *status.Peering) *metrics.Connections {
	if p == nil {
		return nil
	}
	return &metrics.Connections{Planned: p.PlannedEdges, Connected: p.ConnectedEdges, Waiting: p.WaitingEdges}
}

// writeStatus patches the status subresource when it changed, and records
// an event per condition transition.
func (r *Reconciler) writeStatus(ctx context.Context, n *v1alpha1.BitcoinNetwork, newStatus v1alpha1.BitcoinNetworkStatus, repaired map[string]int, pods []*corev1.Pod) error {
	if equality.Semantic.DeepEqual(n.Status, newStatus) {
		return nil
	}
	orig := n.DeepCopy()
	n.Status = newStatus
	// The optimistic lock makes a status computed from a stale read fail
	// (and the reconcile run again on fresh data) instead of writing it and
	// recording its transitions a second time.
	if err := r.Client.Status().Patch(ctx, n, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	events := status.Transitions(orig.Status.Conditions, newStatus.Conditions)
	events = append(events, status.NodeTransitions(orig.Status.Nodes, newStatus.Nodes, repaired)...)
	for _, e := range events {
		var related runtime.Object
		for i := range pods {
			if e.Node != "" && pods[i].Name == e.Node {
				related = pods[i]
			}
		}
		r.Recorder.Eventf(n, related, e.Type, e.Reason, e.Action, "%s", e.Message)
	}
	return nil
}

// SetupWithManager registers the reconciler and its watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.BitcoinNetwork{}, rpcSecretNameField,
		func(o client.Object) []string {
			if name := o.(*v1alpha1.BitcoinNetwork).Spec.RPCSecretName; name != "" {
				return []string{name}
			}
			return nil
		}); err != nil {
		return fmt.Errorf("indexing %s: %w", rpcSecretNameField, err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		// Status writes do not change the generation: no self-triggering.
		For(&v1alpha1.BitcoinNetwork{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(netstate.NetworkOfPod)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.networksUsingSecret)).
		WatchesRawSource(source.Channel(r.Wake, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{RateLimiter: netstate.RetryLimiter()}).
		Complete(r)
}

// conflictRetry is how soon a status write that lost an optimistic-lock
// race is computed again.
const conflictRetry = 200 * time.Millisecond

// networksUsingSecret maps a Secret to the networks naming it in
// spec.rpcSecretName, and to those whose created-once Secret it would be
// by its name (one the network does not control blocks it until it goes).
func (r *Reconciler) networksUsingSecret(ctx context.Context, o client.Object) []reconcile.Request {
	list := &v1alpha1.BitcoinNetworkList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{rpcSecretNameField: o.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "listing networks that use a Secret", "secret", o.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, n := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&n)})
	}
	for _, name := range resources.NetworksOfSecret(o.GetName()) {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}})
	}
	return reqs
}
