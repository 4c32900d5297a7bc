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

// Package controllers holds the reconcilers: they read the cluster, call the
// pure renderers in internal/, apply the result and write status.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
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

	"golang.org/x/time/rate"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// rpcSecretNameField indexes networks by the user Secret they reference, so
// a change to that Secret reconciles exactly those networks.
const rpcSecretNameField = ".spec.rpcSecretName"

// BitcoinNetworkReconciler turns BitcoinNetworks into running nodes.
type BitcoinNetworkReconciler struct {
	// Client reads from the operator's cache and writes to the API server.
	Client client.Client
	// APIReader reads user Secrets, which the cache keeps without data.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// DefaultImages are the node images used when spec.image is empty.
	DefaultImages map[v1alpha1.Implementation]string
	// ClusterDomain is the cluster's DNS domain, for node DNS names.
	ClusterDomain string
	// Peers configures how the operator talks to the nodes.
	Peers PeerOptions
	// OperatorNamespace is the namespace the operator's pods run in; the
	// nodes' NetworkPolicies admit RPC from there. Empty (the operator runs
	// outside the cluster) means no NetworkPolicies: they would shut the
	// operator out.
	OperatorNamespace string
	// SetVolumeGroup gives pods with persistent storage an fsGroup (see
	// resources.NodeParams.VolumeGroup); false where the cluster assigns
	// one itself (OpenShift).
	SetVolumeGroup bool

	transports transportCache
	// scaleEvents holds, per network, the StatefulSet generation the last
	// Created or Scaled event was recorded for (see recordScaling).
	scaleEvents sync.Map
	// applied caches the last apply request of each object (see applyObject).
	applied applyCache
	// store is what the object and peering controllers share per network.
	store peerStore
	// wakePeering starts a peer check (see peering_controller.go).
	wakePeering chan<- event.GenericEvent
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
func (r *BitcoinNetworkReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Every line about this network carries its name as "network".
	log := logf.FromContext(ctx).WithValues("network", req.Name)
	ctx = logf.IntoContext(ctx, log)
	n := &v1alpha1.BitcoinNetwork{}
	if err := r.Client.Get(ctx, req.NamespacedName, n); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !n.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector remove everything.
		r.forget(n.Namespace, n.Name)
		return ctrl.Result{}, nil
	}

	applied, applyErr := r.applyNetwork(ctx, n)
	if applyErr != nil {
		// A rejected object is reported (and retried with backoff, as
		// the error is returned); anything else is retried as it is,
		// without a status that claims either way.
		if applied.problem = applyRejection(applyErr); applied.problem == nil {
			return ctrl.Result{}, applyErr
		}
	}

	nodePods, err := r.nodePods(ctx, n, applied.statefulSet)
	if err != nil {
		return ctrl.Result{}, errors.Join(applyErr, err)
	}
	var peers *status.Peering
	var repaired map[string]int
	if applied.problem == nil && n.Spec.Topology != v1alpha1.TopologyNone {
		if r.store.publishAccess(req.NamespacedName, applied.access) {
			wake(ctx, r.wakePeering, n)
		}
		if peers, repaired = r.store.takeResult(req.NamespacedName, n.Generation); peers == nil {
			// No peer check has run on this generation yet: its outcome
			// wakes this reconciler, and the status then tells the truth
			// about both objects and peers.
			return ctrl.Result{}, applyErr
		}
	}
	newStatus := status.Compute(status.Observed{
		Network: n, Pods: nodePods, StatefulSet: applied.statefulSet, DesiredConfigHash: applied.configHash,
		Problem: applied.problem, ClusterDomain: r.ClusterDomain, Peering: peers,
		MiningAddress: applied.access.miningAddress, MinerSecretName: applied.minerSecret,
	})
	recordMetrics(n, newStatus, peers)
	if err := r.writeStatus(ctx, n, newStatus, repaired, nodePods); err != nil {
		r.store.returnRepaired(req.NamespacedName, repaired)
		if apierrors.IsConflict(err) && applyErr == nil {
			// The cache had not caught up with a write yet (a peer check
			// woke this reconcile right after the last one): try again on
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
		return ctrl.Result{}, nil
	}
	// The peering controller wakes this one when a pass changes anything.
	return ctrl.Result{}, nil
}

// forget drops what the operator keeps in memory about a network.
func (r *BitcoinNetworkReconciler) forget(namespace, name string) {
	r.transports.forget(namespace, name)
	r.scaleEvents.Delete(types.NamespacedName{Namespace: namespace, Name: name})
	r.store.forget(types.NamespacedName{Namespace: namespace, Name: name})
	r.applied.forget(types.NamespacedName{Namespace: namespace, Name: name})
	forgetMetrics(namespace, name)
}

// writeStatus patches the status subresource when it changed, and records
// an event per condition transition.
func (r *BitcoinNetworkReconciler) writeStatus(ctx context.Context, n *v1alpha1.BitcoinNetwork, newStatus v1alpha1.BitcoinNetworkStatus, repaired map[string]int, pods []corev1.Pod) error {
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
				related = &pods[i]
			}
		}
		r.Recorder.Eventf(n, related, e.Type, e.Reason, e.Action, "%s", e.Message)
	}
	return nil
}

// appliedNetwork is what applying a network's objects gave.
type appliedNetwork struct {
	// problem is why the spec cannot be applied until the user acts.
	problem *status.Problem
	// configHash is the config hash the nodes were given.
	configHash string
	access     nodeAccess
	// minerSecret is the Secret with the mining key (access.miningAddress)
	// when the operator made it.
	minerSecret string
	// statefulSet is the StatefulSet as the API server returned it.
	statefulSet *appsv1.StatefulSet
}

// applyNetwork applies every object of the network. A problem means the spec
// cannot be satisfied until the user acts; an error is a failed apply.
func (r *BitcoinNetworkReconciler) applyNetwork(ctx context.Context, n *v1alpha1.BitcoinNetwork) (appliedNetwork, error) {
	var a appliedNetwork
	if err := resources.CheckConfig(n); err != nil {
		a.problem = &status.Problem{Reason: status.ReasonConfigInvalid, Message: err.Error()}
		return a, nil
	}
	if err := r.applyObject(ctx, n, resources.DesiredConfigMap(n)); err != nil {
		return a, err
	}
	if err := r.applyObject(ctx, n, resources.DesiredService(n)); err != nil {
		return a, err
	}
	creds, problem, err := r.credentials(ctx, n)
	if err != nil || problem != nil {
		a.problem = problem
		return a, err
	}
	a.access.credentials = creds
	credentialsHash := resources.CredentialsHash(creds)
	if n.Spec.Regtest != nil {
		if a.access.miningAddress, a.minerSecret, a.problem, err = r.miningAddress(ctx, n); err != nil || a.problem != nil {
			return a, err
		}
	}
	if n.Spec.Implementation == v1alpha1.ImplementationBtcd {
		if err := r.applyObject(ctx, n, resources.DesiredBtcdConfigSecret(n, creds, a.access.miningAddress)); err != nil {
			return a, err
		}
		if a.access.miningAddress != "" {
			// btcd reads its mining address at start: a new one rolls it.
			credentialsHash += "/mining:" + a.access.miningAddress
		}
		tlsSecret, err := r.tlsSecret(ctx, n)
		if err != nil {
			return a, err
		}
		a.access.caPEM = tlsSecret.Data[resources.SecretKeyCACert]
		credentialsHash += "/" + pki.Fingerprint(tlsSecret.Data[corev1.TLSCertKey])
	}
	image := n.Spec.Image
	if image == "" {
		image = r.DefaultImages[n.Spec.Implementation]
	}
	if image == "" {
		a.problem = &status.Problem{Reason: status.ReasonImageNotSet, Message: fmt.Sprintf(
			"spec.image is empty and the operator has no default %s image: set spec.image, or RELATED_IMAGE_%s on the operator",
			n.Spec.Implementation, map[v1alpha1.Implementation]string{v1alpha1.ImplementationBitcoind: "BITCOIND", v1alpha1.ImplementationBtcd: "BTCD"}[n.Spec.Implementation])}
		return a, nil
	}
	params := resources.NodeParams{Image: image, CredentialsHash: credentialsHash}
	if r.SetVolumeGroup {
		params.VolumeGroup = ptr.To(resources.NodeGroup(n.Spec.Implementation))
	}
	before, err := r.cachedStatefulSet(ctx, n)
	if err != nil {
		return a, err
	}
	if err := r.applyNetworkPolicy(ctx, n); err != nil {
		return a, err
	}
	sts := resources.DesiredStatefulSet(n, params)
	if err := r.applyObject(ctx, n, sts); err != nil {
		return a, err
	}
	r.recordScaling(n, before, sts)
	a.statefulSet, a.configHash = sts, resources.ConfigHash(n, credentialsHash)
	return a, nil
}

// applyNetworkPolicy applies the network's NetworkPolicy, or removes the
// one it has when spec.networkPolicy is Disabled.
func (r *BitcoinNetworkReconciler) applyNetworkPolicy(ctx context.Context, n *v1alpha1.BitcoinNetwork) error {
	if r.OperatorNamespace == "" {
		return nil
	}
	if n.Spec.NetworkPolicy != v1alpha1.NetworkPolicyDisabled {
		return r.applyObject(ctx, n, resources.DesiredNetworkPolicy(n, r.OperatorNamespace))
	}
	existing := &networkingv1.NetworkPolicy{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: resources.NetworkPolicyName(n)}, existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading NetworkPolicy: %w", err)
	case !metav1.IsControlledBy(existing, n):
		return nil // not ours to remove
	}
	if err := r.Client.Delete(ctx, existing, client.Preconditions{UID: &existing.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing NetworkPolicy %s: %w", existing.Name, err)
	}
	logf.FromContext(ctx).Info("removed NetworkPolicy", "networkPolicy", existing.Name)
	return nil
}

// miningAddress returns the address a regtest network's blocks pay to:
// spec.regtest.miningAddress, or the one in the miner Secret, which it
// creates once with a new key.
func (r *BitcoinNetworkReconciler) miningAddress(ctx context.Context, n *v1alpha1.BitcoinNetwork) (address, secretName string, problem *status.Problem, err error) {
	if a := n.Spec.Regtest.MiningAddress; a != "" {
		if err := miner.CheckAddress(a); err != nil {
			return "", "", &status.Problem{Reason: status.ReasonMiningAddress, Message: "spec.regtest.miningAddress: " + err.Error() +
				"; give a regtest address, or remove the field to have the operator generate a key"}, nil
		}
		return a, "", nil, nil
	}
	key := types.NamespacedName{Namespace: n.Namespace, Name: resources.MinerSecretName(n)}
	secret, err := r.secretOnce(ctx, key, "generated the regtest mining key", func() (*corev1.Secret, error) { return resources.NewMinerSecret(n) })
	if err != nil {
		return "", "", nil, err
	}
	if address, err = resources.MinerAddress(n, secret); err != nil {
		return "", "", &status.Problem{Reason: status.ReasonMiningAddress, Message: fmt.Sprintf(
			"Secret %s: %v; delete the Secret to have the operator generate a new key, or set spec.regtest.miningAddress", key.Name, err)}, nil
	}
	return address, key.Name, nil, nil
}

// cachedStatefulSet is the network's StatefulSet as the cache has it; nil
// when there is none yet.
func (r *BitcoinNetworkReconciler) cachedStatefulSet(ctx context.Context, n *v1alpha1.BitcoinNetwork) (*appsv1.StatefulSet, error) {
	sts := &appsv1.StatefulSet{}
	switch err := r.Client.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: resources.StatefulSetName(n)}, sts); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading StatefulSet: %w", err)
	}
	return sts, nil
}

// nodePods are the live pods the network's StatefulSet (sts, nil if none)
// controls, from the cache.
func (r *BitcoinNetworkReconciler) nodePods(ctx context.Context, n *v1alpha1.BitcoinNetwork, sts *appsv1.StatefulSet) ([]corev1.Pod, error) {
	pods := &corev1.PodList{}
	if err := r.Client.List(ctx, pods, client.InNamespace(n.Namespace), client.MatchingLabelsSelector{Selector: resources.Selector(n)}); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	return status.ControlledPods(pods.Items, sts), nil
}

// tlsSecret returns a btcd network's TLS Secret, creating it once.
func (r *BitcoinNetworkReconciler) tlsSecret(ctx context.Context, n *v1alpha1.BitcoinNetwork) (*corev1.Secret, error) {
	return r.secretOnce(ctx, types.NamespacedName{Namespace: n.Namespace, Name: resources.TLSSecretName(n)}, "issued RPC TLS certificate",
		func() (*corev1.Secret, error) { return resources.NewTLSSecret(n, r.ClusterDomain, time.Now()) })
}

// secretOnce returns the Secret at key, creating it from render when it does
// not exist. It never rewrites an existing Secret: if the create finds one
// (the cache had not seen it yet), that one is read and used.
func (r *BitcoinNetworkReconciler) secretOnce(ctx context.Context, key types.NamespacedName, created string, render func() (*corev1.Secret, error)) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.Client.Get(ctx, key, secret)
	if err == nil {
		return secret, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading Secret %s: %w", key.Name, err)
	}
	if secret, err = render(); err != nil {
		return nil, fmt.Errorf("rendering Secret %s: %w", key.Name, err)
	}
	err = r.Client.Create(ctx, secret, client.FieldOwner(resources.FieldOwner))
	if apierrors.IsAlreadyExists(err) {
		existing := &corev1.Secret{}
		if err := r.APIReader.Get(ctx, key, existing); err != nil {
			return nil, fmt.Errorf("reading Secret %s: %w", key.Name, err)
		}
		return existing, nil
	}
	if err != nil {
		return nil, fmt.Errorf("creating Secret %s: %w", key.Name, err)
	}
	logf.FromContext(ctx).Info(created, "secret", key.Name)
	return secret, nil
}

// recordScaling records an event when an apply created the StatefulSet or
// changed its replicas: after, as the API server returned it, against
// before, as the cache had it (nil: none). The cache may not have caught up
// with an earlier apply yet, so each StatefulSet generation gets at most one
// event.
func (r *BitcoinNetworkReconciler) recordScaling(n *v1alpha1.BitcoinNetwork, before, after *appsv1.StatefulSet) {
	key := types.NamespacedName{Namespace: n.Namespace, Name: n.Name}
	if last, ok := r.scaleEvents.Load(key); ok && last.(recordedScaling).uid == after.UID && last.(recordedScaling).generation >= after.Generation {
		return
	}
	replicas := ptr.Deref(after.Spec.Replicas, 1)
	switch {
	case before == nil && after.Generation == 1:
		r.Recorder.Eventf(n, after, corev1.EventTypeNormal, "Created", "Create", "Creating %d nodes", replicas)
	case before != nil && after.Generation > before.Generation && ptr.Deref(before.Spec.Replicas, 1) != replicas:
		r.Recorder.Eventf(n, after, corev1.EventTypeNormal, "Scaled", "Scale", "Scaling from %d to %d nodes", ptr.Deref(before.Spec.Replicas, 1), replicas)
	default:
		return
	}
	r.scaleEvents.Store(key, recordedScaling{uid: after.UID, generation: after.Generation})
}

// recordedScaling is the StatefulSet generation a scaling event was recorded for.
type recordedScaling struct {
	uid        types.UID
	generation int64
}

// credentials returns the RPC credentials of a network: from the user's
// Secret, or from the Secret the operator generates once. For bitcoind with
// a user Secret it also applies the derived rpcauth Secret.
func (r *BitcoinNetworkReconciler) credentials(ctx context.Context, n *v1alpha1.BitcoinNetwork) (resources.Credentials, *status.Problem, error) {
	key := types.NamespacedName{Namespace: n.Namespace, Name: resources.RPCSecretName(n)}
	secret := &corev1.Secret{}
	if n.Spec.RPCSecretName != "" {
		// The cache keeps foreign Secrets without their data.
		if err := r.APIReader.Get(ctx, key, secret); err != nil {
			if apierrors.IsNotFound(err) {
				return resources.Credentials{}, &status.Problem{Reason: status.ReasonRPCSecretNotFound, Message: fmt.Sprintf(
					"spec.rpcSecretName: Secret %q not found in namespace %q; create it with the keys %q and %q",
					key.Name, key.Namespace, resources.SecretKeyUser, resources.SecretKeyPassword)}, nil
			}
			return resources.Credentials{}, nil, fmt.Errorf("reading Secret %s: %w", key.Name, err)
		}
	} else {
		var err error
		if secret, err = r.secretOnce(ctx, key, "generated RPC credentials",
			func() (*corev1.Secret, error) { return resources.NewGeneratedRPCSecret(n) }); err != nil {
			return resources.Credentials{}, nil, err
		}
	}
	creds, err := resources.CredentialsFromSecret(secret)
	if err == nil {
		if err = resources.CheckCredentials(n.Spec.Implementation, creds); err != nil {
			err = fmt.Errorf("secret %s: %w", secret.Name, err)
		}
	}
	if err != nil {
		field := "spec.rpcSecretName"
		if n.Spec.RPCSecretName == "" {
			field = "generated Secret (delete it to have it generated again)"
		}
		return resources.Credentials{}, &status.Problem{Reason: status.ReasonRPCSecretInvalid, Message: fmt.Sprintf("%s: %v", field, err)}, nil
	}
	if n.Spec.RPCSecretName == "" && n.Spec.Implementation == v1alpha1.ImplementationBitcoind &&
		!rpcauth.Matches(string(secret.Data[resources.SecretKeyRPCAuth]), creds.User, creds.Password) {
		// Someone edited the generated Secret: bitcoind would reject the
		// password clients read from it.
		return resources.Credentials{}, &status.Problem{Reason: status.ReasonRPCSecretInvalid, Message: fmt.Sprintf(
			"Secret %s: its %q key does not match %q; delete the Secret to have the operator generate new credentials, or set spec.rpcSecretName",
			secret.Name, resources.SecretKeyRPCAuth, resources.SecretKeyPassword)}, nil
	}
	if n.Spec.RPCSecretName != "" && n.Spec.Implementation == v1alpha1.ImplementationBitcoind {
		if err := r.applyObject(ctx, n, resources.DesiredRPCAuthSecret(n, creds)); err != nil {
			return resources.Credentials{}, nil, err
		}
	}
	return creds, nil, nil
}

// SetupWithManager registers the reconciler and its watches.
func (r *BitcoinNetworkReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.BitcoinNetwork{}, rpcSecretNameField,
		func(o client.Object) []string {
			if name := o.(*v1alpha1.BitcoinNetwork).Spec.RPCSecretName; name != "" {
				return []string{name}
			}
			return nil
		}); err != nil {
		return fmt.Errorf("indexing %s: %w", rpcSecretNameField, err)
	}
	wakeNetwork := make(chan event.GenericEvent, 64)
	if err := r.setupPeering(mgr, wakeNetwork); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		// Status writes do not change the generation: no self-triggering.
		For(&v1alpha1.BitcoinNetwork{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(networkOfPod)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.networksUsingSecret)).
		WatchesRawSource(source.Channel(wakeNetwork, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{RateLimiter: retryLimiter()}).
		Complete(r)
}

// conflictRetry is how soon a status write that lost an optimistic-lock
// race is computed again.
const conflictRetry = 200 * time.Millisecond

// maxRetryDelay caps the backoff of a failing reconcile: controller-runtime's
// default grows to 16 minutes, so a network would stay stale that long after
// an API server outage; a minute is as long as a peer check may wait.
const maxRetryDelay = time.Minute

// retryLimiter is controller-runtime's default rate limiter (per-item
// exponential backoff from 5 ms, overall 10 qps with bursts of 100) with
// the backoff capped at maxRetryDelay.
func retryLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// networkOfPod maps a node pod to its network through its labels.
func networkOfPod(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	if l[resources.LabelManagedBy] != resources.ManagedByValue || l[resources.LabelInstance] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: l[resources.LabelInstance]}}}
}

// networksUsingSecret maps a Secret to the networks naming it in
// spec.rpcSecretName.
func (r *BitcoinNetworkReconciler) networksUsingSecret(ctx context.Context, o client.Object) []reconcile.Request {
	list := &v1alpha1.BitcoinNetworkList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{rpcSecretNameField: o.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "listing networks that use a Secret", "secret", o.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, n := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&n)})
	}
	return reqs
}
