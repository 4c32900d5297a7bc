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

package objects

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// appliedNetwork is what applying a network's objects gave.
type appliedNetwork struct {
	// problem is why the spec cannot be applied until the user acts.
	problem *status.Problem
	// configHash is the config hash the nodes were given.
	configHash string
	access     netstate.Access
	// minerSecret is the Secret with the mining key (access.MiningAddress)
	// when the operator made it.
	minerSecret string
	// statefulSet is the StatefulSet as the API server returned it.
	statefulSet *appsv1.StatefulSet
}

// applyNetwork applies every object of the network. A problem means the spec
// cannot be satisfied until the user acts; an error is a failed apply.
func (r *Reconciler) applyNetwork(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network) (appliedNetwork, error) {
	var a appliedNetwork
	if err := resources.CheckConfig(n); err != nil {
		a.problem = &status.Problem{Reason: status.ReasonConfigInvalid, Message: err.Error()}
		return a, nil
	}
	if err := r.applyObject(ctx, st, resources.DesiredConfigMap(n)); err != nil {
		return a, err
	}
	if err := r.applyObject(ctx, st, resources.DesiredService(n)); err != nil {
		return a, err
	}
	fingerprint, err := r.nodeFingerprint(ctx, n, st, &a)
	if err != nil || a.problem != nil {
		return a, err
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
	params := resources.NodeParams{Image: image, CredentialsHash: fingerprint}
	if r.SetVolumeGroup {
		params.VolumeGroup = ptr.To(resources.NodeGroup(n.Spec.Implementation))
	}
	before, err := netstate.StatefulSet(ctx, r.Client, n)
	if err != nil {
		return a, err
	}
	if err := r.applyNetworkPolicy(ctx, n, st); err != nil {
		return a, err
	}
	sts := resources.DesiredStatefulSet(n, params)
	if err := r.applyObject(ctx, st, sts); err != nil {
		return a, err
	}
	r.recordScaling(n, st, before, sts)
	a.statefulSet, a.configHash = sts, resources.ConfigHash(n, fingerprint)
	return a, nil
}

// nodeFingerprint resolves what the nodes need from Secrets (credentials,
// mining address, btcd's configuration and TLS certificate) into a.access,
// and returns the fingerprint of all of it for the pod template: it changes
// exactly when the nodes must restart to see a change.
func (r *Reconciler) nodeFingerprint(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network, a *appliedNetwork) (string, error) {
	creds, problem, err := r.credentials(ctx, n, st)
	if err != nil || problem != nil {
		a.problem = problem
		return "", err
	}
	key, err := r.fingerprintKey(ctx, n)
	if err != nil || a.setProblem(key.problem) {
		return "", err
	}
	a.access.Credentials = creds
	fingerprint := resources.CredentialsHash(creds, key.key)
	if n.Spec.Regtest != nil {
		if a.access.MiningAddress, a.minerSecret, a.problem, err = r.miningAddress(ctx, n); err != nil || a.problem != nil {
			return "", err
		}
	}
	if n.Spec.Implementation != v1alpha1.ImplementationBtcd {
		return fingerprint, nil
	}
	if err := r.applyObject(ctx, st, resources.DesiredBtcdConfigSecret(n, creds, a.access.MiningAddress)); err != nil {
		return "", err
	}
	if a.access.MiningAddress != "" {
		// btcd reads its mining address at start: a new one rolls it.
		fingerprint += "/mining:" + a.access.MiningAddress
	}
	tlsSecret, problem, err := r.tlsSecret(ctx, n)
	if err != nil || a.setProblem(problem) {
		return "", err
	}
	a.access.CAPEM = tlsSecret.Data[resources.SecretKeyCACert]
	return fingerprint + "/" + pki.Fingerprint(tlsSecret.Data[corev1.TLSCertKey]), nil
}

// setProblem records p, if any, and reports whether there was one.
func (a *appliedNetwork) setProblem(p *status.Problem) bool {
	if p != nil {
		a.problem = p
	}
	return p != nil
}

// applyNetworkPolicy applies the network's NetworkPolicy, or removes the
// one it has when spec.networkPolicy is Disabled.
func (r *Reconciler) applyNetworkPolicy(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network) error {
	if r.OperatorNamespace == "" {
		return nil
	}
	if n.Spec.NetworkPolicy != v1alpha1.NetworkPolicyDisabled {
		return r.applyObject(ctx, st, resources.DesiredNetworkPolicy(n, r.OperatorNamespace))
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

// recordScaling records an event when an apply created the StatefulSet or
// changed its replicas: after, as the API server returned it, against
// before, as the cache had it (nil: none). The cache may not have caught up
// with an earlier apply yet, so each StatefulSet generation gets at most one
// event.
func (r *Reconciler) recordScaling(n *v1alpha1.BitcoinNetwork, st *netstate.Network, before, after *appsv1.StatefulSet) {
	replicas := ptr.Deref(after.Spec.Replicas, 1)
	st.Update(func(d *netstate.Data) {
		if d.ScaledUID == after.UID && d.ScaledGeneration >= after.Generation {
			return
		}
		switch {
		case before == nil && after.Generation == 1:
			r.Recorder.Eventf(n, after, corev1.EventTypeNormal, "Created", "Create", "Creating %d nodes", replicas)
		case before != nil && after.Generation > before.Generation && ptr.Deref(before.Spec.Replicas, 1) != replicas:
			r.Recorder.Eventf(n, after, corev1.EventTypeNormal, "Scaled", "Scale", "Scaling from %d to %d nodes", ptr.Deref(before.Spec.Replicas, 1), replicas)
		default:
			return
		}
		d.ScaledUID, d.ScaledGeneration = after.UID, after.Generation
	})
}
