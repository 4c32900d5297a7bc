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

// Package faults is the fault controller: it resolves each
// BitcoinNetworkFault against its network, decides when it is active and
// when it has healed, and writes its status. It never calls a node: the
// node controller (controllers/nodes) enforces the active fault in its
// passes and leaves what it saw in the network's state (netstate).
package faults

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/fault"
)

// Finalizer keeps a fault until the operator has healed it.
const Finalizer = "bitcoin.network-operator.dev/heal"

// poll is how often a fault being healed, or healed but not yet converged,
// looks at what the node controller's passes saw.
const poll = time.Second

// convergeWait bounds how long a deleted, healed fault waits for the nodes
// to reach one tip before it goes.
const convergeWait = 2 * time.Minute

// Reconciler reconciles BitcoinNetworkFaults.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	States   *netstate.Store
	// Now is the clock (tests set it); time.Now when nil.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=bitcoin.network-operator.dev,resources=bitcoinnetworkfaults,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=bitcoin.network-operator.dev,resources=bitcoinnetworkfaults/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bitcoin.network-operator.dev,resources=bitcoinnetworkfaults/finalizers,verbs=update

// Reconcile moves a fault through Pending, Active, Healing and Healed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	f := &v1alpha1.BitcoinNetworkFault{}
	if err := r.Client.Get(ctx, req.NamespacedName, f); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	n := &v1alpha1.BitcoinNetwork{}
	switch err := r.Client.Get(ctx, types.NamespacedName{Namespace: f.Namespace, Name: f.Spec.NetworkName}, n); {
	case apierrors.IsNotFound(err):
		n = nil
	case err != nil:
		return ctrl.Result{}, err
	case f.Status.NetworkUID != "" && types.UID(f.Status.NetworkUID) != n.UID:
		n = nil // a network of the same name, created since: not this fault's
	}
	if !f.DeletionTimestamp.IsZero() {
		return r.finish(ctx, f, n)
	}
	if !controllerutil.ContainsFinalizer(f, Finalizer) {
		controllerutil.AddFinalizer(f, Finalizer)
		if err := r.Client.Update(ctx, f); err != nil {
			return ctrl.Result{}, err
		}
	}
	before := f.Status.DeepCopy()
	result, err := r.step(ctx, f, n)
	if err != nil {
		return ctrl.Result{}, err
	}
	f.Status.ObservedGeneration = f.Generation
	if err := r.write(ctx, f, n, before); err != nil {
		return ctrl.Result{}, err
	}
	return result, nil
}

// write stores the fault's status when it changed, then announces what
// changed: events follow a written status only, so that a write lost to a
// conflict (a reconcile of a stale copy) announces nothing twice.
func (r *Reconciler) write(ctx context.Context, f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork, before *v1alpha1.BitcoinNetworkFaultStatus) error {
	if equalStatus(before, &f.Status) {
		return nil
	}
	if err := r.Client.Status().Update(ctx, f); err != nil {
		return err
	}
	after := &f.Status
	if c := meta.FindStatusCondition(after.Conditions, v1alpha1.FaultConditionDegraded); c != nil && c.Status == metav1.ConditionTrue {
		if old := meta.FindStatusCondition(before.Conditions, v1alpha1.FaultConditionDegraded); old == nil || old.Message != c.Message {
			r.event(f, nil, corev1.EventTypeWarning, c.Reason, "Validate", c.Message)
		}
	}
	if after.Phase == v1alpha1.FaultActive && before.Phase != v1alpha1.FaultActive {
		r.event(f, n, corev1.EventTypeNormal, "FaultStarted", "Start", meta.FindStatusCondition(after.Conditions, v1alpha1.FaultConditionActive).Message)
	}
	if after.Phase == v1alpha1.FaultHealed && before.Phase != v1alpha1.FaultHealed {
		r.event(f, n, corev1.EventTypeNormal, "FaultHealed", "Heal", meta.FindStatusCondition(after.Conditions, v1alpha1.FaultConditionHealed).Message)
	}
	if after.ConvergedAt != nil && before.ConvergedAt == nil {
		message := fmt.Sprintf("Every ready node is at one tip, %d s after the heal; no node reorganised.", *after.ConvergenceSeconds)
		if len(after.Reorgs) > 0 {
			message = fmt.Sprintf("Every ready node is at one tip, %d s after the heal; %s.", *after.ConvergenceSeconds, describeReorgs(after.Reorgs))
		}
		// One event for all: events of one reason on one object make a
		// series that keeps only the last message.
		r.event(f, n, corev1.EventTypeNormal, "ReorgObserved", "Observe", message)
		depths := make([]int64, len(after.Reorgs))
		for i, x := range after.Reorgs {
			depths[i] = x.Depth
		}
		if st := r.stateOf(n); st != nil {
			// Through the network's state: a network that is gone takes
			// no more series.
			st.Update(func(*netstate.Data) {
				metrics.ObserveHeal(f.Namespace, f.Spec.NetworkName, after.ConvergedAt.Sub(after.HealedAt.Time), depths)
			})
		}
	}
	return nil
}

// step advances the fault by one phase at most.
func (r *Reconciler) step(ctx context.Context, f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) (ctrl.Result, error) {
	switch f.Status.Phase {
	case v1alpha1.FaultActive:
		if n == nil {
			r.healed(f, nil, r.now(), "NetworkDeleted", "The network was deleted, which ends its faults.")
			return ctrl.Result{}, nil
		}
		r.recordTips(f, n)
		if f.Spec.Reorg != nil {
			return r.stepReorg(f, n), nil
		}
		if f.Spec.Duration != nil && f.Status.StartedAt != nil {
			if left := time.Until(f.Status.StartedAt.Add(f.Spec.Duration.Duration)); left > 0 {
				return ctrl.Result{RequeueAfter: left}, nil
			}
			r.heal(f, n, "DurationOver", fmt.Sprintf("spec.duration (%s) is over: healing.", f.Spec.Duration.Duration))
			return ctrl.Result{RequeueAfter: poll}, nil
		}
		return ctrl.Result{}, nil
	case v1alpha1.FaultHealing:
		return r.checkHealed(f, n), nil
	case v1alpha1.FaultHealed:
		return r.checkConverged(f, n), nil
	}
	return r.start(ctx, f, n)
}

// stepReorg keeps the base height the node controller found, and heals
// once both sides have mined.
func (r *Reconciler) stepReorg(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) ctrl.Result {
	var base int64
	var found, mined bool
	if st := r.States.Get(n.UID); st != nil {
		st.Update(func(d *netstate.Data) {
			base, found = d.Faults.ReorgBase[f.UID]
			mined = d.Faults.ReorgMined[f.UID]
		})
	}
	if f.Status.ReorgBaseHeight == nil && found {
		f.Status.ReorgBaseHeight = &base
	}
	if mined && f.Status.ReorgBaseHeight != nil && tipsAt(f) {
		b, d := *f.Status.ReorgBaseHeight, int64(f.Spec.Reorg.Depth)
		r.heal(f, n, "ReorgMined", fmt.Sprintf("Both sides have mined from height %d: the smaller side to %d, the other to %d; healing.", b, b+d, b+d+1))
	}
	return ctrl.Result{RequeueAfter: poll}
}

// tipsAt reports whether the status records each side of a reorg at one
// tip at its target height: the heal waits for it, since the tips it
// records are how each node's reorganisation is found afterwards.
func tipsAt(f *v1alpha1.BitcoinNetworkFault) bool {
	b, d := *f.Status.ReorgBaseHeight, int64(f.Spec.Reorg.Depth)
	for s, side := range f.Status.Sides {
		if len(side.Tips) != 1 || side.Tips[0].Height != b+d+int64(s) {
			return false
		}
	}
	return len(f.Status.Sides) == 2
}

// start makes a pending fault active when it resolves against its network
// and no other fault of the network goes first.
func (r *Reconciler) start(ctx context.Context, f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) (ctrl.Result, error) {
	f.Status.Phase = v1alpha1.FaultPending
	if n == nil {
		r.pending(f, "NetworkNotFound", fmt.Sprintf("spec.networkName: there is no BitcoinNetwork %s in namespace %s; create it, or name an existing one.", f.Spec.NetworkName, f.Namespace))
		return ctrl.Result{}, nil
	}
	sides, err := fault.Sides(f.Spec, n)
	if err != nil {
		r.pending(f, "InvalidSpec", err.Error()+".")
		return ctrl.Result{}, nil
	}
	if first, err := r.firstFault(ctx, f); err != nil {
		return ctrl.Result{}, err
	} else if first != nil {
		meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionActive, Status: metav1.ConditionFalse, Reason: "WaitingForFault", ObservedGeneration: f.Generation,
			Message: fmt.Sprintf("Network %s has fault %s, which goes first (one fault at a time); this one starts once %s is healed.", n.Name, first.Name, first.Name)})
		meta.RemoveStatusCondition(&f.Status.Conditions, v1alpha1.FaultConditionDegraded)
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	}
	now := metav1.NewTime(r.now())
	f.Status.Phase, f.Status.StartedAt, f.Status.NetworkUID = v1alpha1.FaultActive, &now, string(n.UID)
	f.Status.Sides = make([]v1alpha1.FaultSideStatus, len(sides))
	for i, s := range sides {
		f.Status.Sides[i] = v1alpha1.FaultSideStatus{Nodes: s}
	}
	meta.RemoveStatusCondition(&f.Status.Conditions, v1alpha1.FaultConditionDegraded)
	message := fmt.Sprintf("Network %s is split in %d sides: %s.", n.Name, len(sides), describeSides(sides))
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionActive, Status: metav1.ConditionTrue, Reason: "Enforced", Message: message, ObservedGeneration: f.Generation})
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionHealed, Status: metav1.ConditionFalse, Reason: "Active", Message: "The fault is active.", ObservedGeneration: f.Generation})
	if f.Spec.Duration != nil {
		return ctrl.Result{RequeueAfter: f.Spec.Duration.Duration}, nil
	}
	return ctrl.Result{}, nil
}

// firstFault is another fault of the same network that goes before f: an
// active or healing one, or an older pending one. Decided from the
// objects alone, so that two faults created at once cannot both start.
func (r *Reconciler) firstFault(ctx context.Context, f *v1alpha1.BitcoinNetworkFault) (*v1alpha1.BitcoinNetworkFault, error) {
	var list v1alpha1.BitcoinNetworkFaultList
	if err := r.Client.List(ctx, &list, client.InNamespace(f.Namespace)); err != nil {
		return nil, fmt.Errorf("listing faults: %w", err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID == f.UID || o.Spec.NetworkName != f.Spec.NetworkName {
			continue
		}
		switch o.Status.Phase {
		case v1alpha1.FaultActive, v1alpha1.FaultHealing:
			return o, nil
		case v1alpha1.FaultHealed:
			continue
		}
		older := o.CreationTimestamp.Before(&f.CreationTimestamp) || o.CreationTimestamp.Equal(&f.CreationTimestamp) && o.Name < f.Name
		if older && o.DeletionTimestamp.IsZero() && !degraded(o) {
			return o, nil
		}
	}
	return nil, nil
}

func degraded(f *v1alpha1.BitcoinNetworkFault) bool {
	return meta.IsStatusConditionTrue(f.Status.Conditions, v1alpha1.FaultConditionDegraded)
}

// pending keeps a fault from starting, saying why and how to fix it.
func (r *Reconciler) pending(f *v1alpha1.BitcoinNetworkFault, reason, message string) {
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionDegraded, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: f.Generation})
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionActive, Status: metav1.ConditionFalse, Reason: reason, Message: "Nothing was changed on any node.", ObservedGeneration: f.Generation})
}

// heal ends an active fault: the node controller's next passes restore
// the plan and lift the bans.
func (r *Reconciler) heal(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork, reason, message string) {
	f.Status.Phase = v1alpha1.FaultHealing
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionActive, Status: metav1.ConditionFalse, Reason: reason, Message: message, ObservedGeneration: f.Generation})
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionHealed, Status: metav1.ConditionFalse, Reason: "Healing", Message: "Restoring the planned connections and lifting the bans.", ObservedGeneration: f.Generation})
}

// healStart is when the fault stopped being enforced.
func healStart(f *v1alpha1.BitcoinNetworkFault) time.Time {
	if c := meta.FindStatusCondition(f.Status.Conditions, v1alpha1.FaultConditionActive); c != nil && c.Status == metav1.ConditionFalse {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

// checkHealed marks the fault healed once a pass that started after the
// heal enforced no fault and left no ban of the network's addresses.
func (r *Reconciler) checkHealed(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) ctrl.Result {
	if n == nil {
		r.healed(f, nil, r.now(), "NetworkDeleted", "The network was deleted, which ends its faults.")
		return ctrl.Result{}
	}
	var clean time.Time
	if st := r.States.Get(n.UID); st != nil {
		st.Update(func(d *netstate.Data) { clean = d.Faults.CleanAt })
	}
	// Conditions hold seconds: a pass in the heal's second counts.
	if clean.IsZero() || clean.Before(healStart(f)) {
		return ctrl.Result{RequeueAfter: poll}
	}
	r.healed(f, n, clean, "Restored", "The planned connections are restored and the bans lifted.")
	return ctrl.Result{RequeueAfter: poll}
}

func (r *Reconciler) healed(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork, at time.Time, reason, message string) {
	t := metav1.NewTime(at)
	f.Status.Phase, f.Status.HealedAt = v1alpha1.FaultHealed, &t
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionActive, Status: metav1.ConditionFalse, Reason: reason, Message: message, ObservedGeneration: f.Generation})
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionHealed, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: f.Generation})
}

// checkConverged records when every node was first seen at one tip after
// the heal, and the reorganisations the nodes reported.
func (r *Reconciler) checkConverged(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) ctrl.Result {
	if f.Status.ConvergedAt != nil || n == nil || f.Status.HealedAt == nil {
		return ctrl.Result{}
	}
	var oneTip time.Time
	var reorgs map[string]v1alpha1.NodeReorgStatus
	if st := r.States.Get(n.UID); st != nil {
		st.Update(func(d *netstate.Data) {
			oneTip = d.Faults.OneTipAt
			reorgs = maps.Clone(d.Faults.Reorgs[f.UID])
		})
	}
	for _, name := range slices.Sorted(maps.Keys(reorgs)) {
		if !slices.ContainsFunc(f.Status.Reorgs, func(x v1alpha1.NodeReorgStatus) bool { return x.Node == name }) {
			f.Status.Reorgs = append(f.Status.Reorgs, reorgs[name])
		}
	}
	// Passes may see the nodes' reorganisations one at a time: the status
	// lists them by node, whatever the order they came in.
	slices.SortStableFunc(f.Status.Reorgs, func(a, b v1alpha1.NodeReorgStatus) int { return strings.Compare(a.Node, b.Node) })
	if oneTip.IsZero() || oneTip.Before(f.Status.HealedAt.Time) {
		return ctrl.Result{RequeueAfter: poll}
	}
	t := metav1.NewTime(oneTip)
	seconds := int64(oneTip.Sub(f.Status.HealedAt.Time).Round(time.Second) / time.Second)
	f.Status.ConvergedAt, f.Status.ConvergenceSeconds = &t, &seconds
	meta.SetStatusCondition(&f.Status.Conditions, metav1.Condition{Type: v1alpha1.FaultConditionHealed, Status: metav1.ConditionTrue, Reason: "Converged", ObservedGeneration: f.Generation,
		Message: fmt.Sprintf("Every ready node is at one tip, %d s after the heal.", seconds)})
	return ctrl.Result{}
}

// recordTips keeps, per side, the tips its nodes are at while the fault is
// active (from the network's status, which the node controller writes).
func (r *Reconciler) recordTips(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) {
	byName := map[string]v1alpha1.NodeStatus{}
	for _, s := range n.Status.Nodes {
		byName[s.Name] = s
	}
	for i, side := range f.Status.Sides {
		var tips []v1alpha1.TipStatus
		for _, name := range side.Nodes {
			s, ok := byName[name]
			if !ok || !s.Ready || s.BestBlockHash == "" {
				continue
			}
			j := slices.IndexFunc(tips, func(t v1alpha1.TipStatus) bool { return t.Hash == s.BestBlockHash })
			if j < 0 {
				tips = append(tips, v1alpha1.TipStatus{Height: s.BlockHeight, Hash: s.BestBlockHash})
				j = len(tips) - 1
			}
			tips[j].Nodes++
		}
		if len(tips) > 0 {
			f.Status.Sides[i].Tips = tips
		}
	}
}

// finish heals a deleted fault before letting it go.
func (r *Reconciler) finish(ctx context.Context, f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(f, Finalizer) {
		return ctrl.Result{}, nil
	}
	before := f.Status.DeepCopy()
	result := ctrl.Result{}
	switch f.Status.Phase {
	case v1alpha1.FaultActive:
		r.heal(f, n, "Deleted", "The fault was deleted: healing.")
		result.RequeueAfter = poll
	case v1alpha1.FaultHealing:
		result = r.checkHealed(f, n)
	case v1alpha1.FaultHealed:
		// A deleted fault stays until the nodes are at one tip (at most
		// convergeWait), so that its reorganisations reach the events.
		if f.Status.ConvergedAt == nil && f.Status.HealedAt != nil && r.now().Sub(f.Status.HealedAt.Time) < convergeWait {
			result = r.checkConverged(f, n)
		}
	}
	if err := r.write(ctx, f, n, before); err != nil {
		return ctrl.Result{}, err
	}
	if result.RequeueAfter > 0 {
		return result, nil
	}
	controllerutil.RemoveFinalizer(f, Finalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Client.Update(ctx, f))
}

func (r *Reconciler) event(f *v1alpha1.BitcoinNetworkFault, n *v1alpha1.BitcoinNetwork, kind, reason, action, message string) {
	r.Recorder.Eventf(f, nil, kind, reason, action, "%s", message)
	if n != nil {
		r.Recorder.Eventf(n, f, kind, reason, action, "Fault %s: %s", f.Name, message)
	}
}

func (r *Reconciler) stateOf(n *v1alpha1.BitcoinNetwork) *netstate.Network {
	if n == nil {
		return nil
	}
	return r.States.Get(n.UID)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the fault controller; a network's changes
// (its status's tips, its deletion) wake its faults.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("bitcoinnetworkfault").
		For(&v1alpha1.BitcoinNetworkFault{}).
		Watches(&v1alpha1.BitcoinNetwork{}, handler.EnqueueRequestsFromMapFunc(r.faultsOfNetwork)).
		WithOptions(controllerOptions()).
		Complete(r)
}

// faultsOfNetwork maps a network to the faults that name it.
func (r *Reconciler) faultsOfNetwork(ctx context.Context, o client.Object) []reconcile.Request {
	var list v1alpha1.BitcoinNetworkFaultList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, f := range list.Items {
		// A finished fault (healed, converged) has nothing left to see
		// in its network: its status changes every pass.
		finished := f.Status.Phase == v1alpha1.FaultHealed && f.Status.ConvergedAt != nil && f.DeletionTimestamp.IsZero()
		if f.Spec.NetworkName == o.GetName() && !finished {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: f.Namespace, Name: f.Name}})
		}
	}
	return out
}
