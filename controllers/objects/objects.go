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
	"errors"
	"fmt"
	"strings"

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
	access  netstate.Access
	// minerSecret is the Secret with the mining key (access.MiningAddress)
	// when the operator made it.
	minerSecret string
	// groups are the groups with what was applied for them.
	groups []status.GroupObserved
}

// applyNetwork applies every object of the network. A problem means the spec
// cannot be satisfied until the user acts; an error is a failed apply.
func (r *Reconciler) applyNetwork(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network) (appliedNetwork, error) {
	var a appliedNetwork
	for _, g := range resources.Groups(n) {
		a.groups = append(a.groups, status.GroupObserved{Group: g, Image: r.image(g)})
	}
	if err := resources.CheckConfig(n); err != nil {
		a.problem = &status.Problem{Reason: status.ReasonConfigInvalid, Message: err.Error()}
		return a, r.cachedStatefulSets(ctx, n, a.groups)
	}
	if resources.PrivateSignet(n) {
		// The nodes are configured with the challenge, which the key
		// the operator made gives: everything below renders from it.
		key, secretName, problem, err := r.signetKey(ctx, n)
		if err != nil || a.setProblem(problem) {
			return a, errors.Join(err, r.cachedStatefulSets(ctx, n, a.groups))
		}
		if key != nil {
			a.access.Signet, a.access.MiningAddress, a.minerSecret = key, key.Address, secretName
			n = resources.WithSignetChallenge(n, key.Challenge)
		}
	}
	if err := r.applyObject(ctx, st, resources.DesiredConfigMap(n)); err != nil {
		return a, err
	}
	if err := r.applyObject(ctx, st, resources.DesiredService(n)); err != nil {
		return a, err
	}
	fingerprints, err := r.nodeFingerprints(ctx, n, st, &a)
	if err != nil || a.problem != nil {
		return a, errors.Join(err, r.cachedStatefulSets(ctx, n, a.groups))
	}
	for i, g := range a.groups {
		if g.Image == "" {
			a.problem = &status.Problem{Reason: status.ReasonImageNotSet, Message: fmt.Sprintf(
				"%s is empty and the operator has no default %s image: set it, or RELATED_IMAGE_%s on the operator",
				imageField(n, i), g.Implementation, strings.ToUpper(string(g.Implementation)))}
			return a, r.cachedStatefulSets(ctx, n, a.groups)
		}
	}
	if err := r.applyNetworkPolicy(ctx, n, st); err != nil {
		return a, err
	}
	for i := range a.groups {
		if err := r.applyGroup(ctx, n, st, &a.groups[i], fingerprints.of(a.groups[i].Implementation)); err != nil {
			return a, err
		}
	}
	return a, nil
}

// applyGroup applies a group's StatefulSet, recording what it applied.
func (r *Reconciler) applyGroup(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network, g *status.GroupObserved, fingerprint string) error {
	params := resources.NodeParams{Image: g.Image, CredentialsHash: fingerprint}
	if r.SetVolumeGroup {
		params.VolumeGroup = ptr.To(resources.NodeGroup(g.Implementation))
	}
	before, err := netstate.GroupStatefulSet(ctx, r.Client, n, g.Group)
	if err != nil {
		return err
	}
	sts := resources.DesiredStatefulSet(n, g.Group, params)
	if err := r.applyObject(ctx, st, sts); err != nil {
		g.StatefulSet = before
		return err
	}
	r.recordScaling(n, st, before, sts)
	g.StatefulSet, g.DesiredConfigHash = sts, resources.ConfigHash(n, g.Group, fingerprint)
	return nil
}

// cachedStatefulSets fills in the groups' StatefulSets as the cache has
// them, for a status written without applying them.
func (r *Reconciler) cachedStatefulSets(ctx context.Context, n *v1alpha1.BitcoinNetwork, groups []status.GroupObserved) error {
	for i := range groups {
		sts, err := netstate.GroupStatefulSet(ctx, r.Client, n, groups[i].Group)
		if err != nil {
			return err
		}
		groups[i].StatefulSet = sts
	}
	return nil
}

// image is a group's node image: its own, or the operator's default.
func (r *Reconciler) image(g resources.Group) string {
	if g.Image != "" {
		return g.Image
	}
	return r.DefaultImages[g.Implementation]
}

// imageField names a group's image field in messages.
func imageField(n *v1alpha1.BitcoinNetwork, i int) string {
	if len(n.Spec.Groups) == 0 {
		return "spec.image"
	}
	return fmt.Sprintf("spec.groups[%d].image", i)
}

// nodeFingerprints resolves what the nodes need from Secrets (credentials,
// mining address, btcd's configuration and TLS certificate) into
// a.access, and returns, per implementation, the fingerprint of all of it
// for the pod templates: it changes exactly when the nodes must restart to
// see a change.
func (r *Reconciler) nodeFingerprints(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network, a *appliedNetwork) (fingerprints, error) {
	var out fingerprints
	creds, problem, err := r.credentials(ctx, n, st)
	if err != nil || problem != nil {
		a.problem = problem
		return out, err
	}
	key, err := r.fingerprintKey(ctx, n)
	if err != nil || a.setProblem(key.problem) {
		return out, err
	}
	a.access.Credentials = creds
	out.core = resources.CredentialsHash(creds, key.key)
	if n.Spec.Regtest != nil {
		if a.access.MiningAddress, a.minerSecret, a.problem, err = r.miningAddress(ctx, n); err != nil || a.problem != nil {
			return out, err
		}
	}
	if !resources.HasImplementation(n, v1alpha1.ImplementationBtcd) {
		return out, nil
	}
	if err := r.applyObject(ctx, st, resources.DesiredBtcdConfigSecret(n, creds, a.access.MiningAddress)); err != nil {
		return out, err
	}
	out.btcd = out.core
	if a.access.MiningAddress != "" {
		// btcd reads its mining address at start: a new one rolls it.
		out.btcd += "/mining:" + a.access.MiningAddress
	}
	tlsSecret, problem, err := r.tlsSecret(ctx, n)
	if err != nil || a.setProblem(problem) {
		return out, err
	}
	a.access.CAPEM = tlsSecret.Data[resources.SecretKeyCACert]
	out.btcd += "/" + pki.Fingerprint(tlsSecret.Data[corev1.TLSCertKey])
	return out, nil
}

// fingerprints are the pod templates' fingerprints of what nodes read from
// Secrets: Bitcoin Core's (credentials) and btcd's (credentials, mining
// address, TLS certificate).
type fingerprints struct{ core, btcd string }

func (f fingerprints) of(impl v1alpha1.Implementation) string {
	if impl == v1alpha1.ImplementationBtcd {
		return f.btcd
	}
	return f.core
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
		if last := d.Scaled[after.Name]; last.UID == after.UID && last.Generation >= after.Generation {
			return
		}
		switch {
		case before == nil && after.Generation == 1:
			r.Recorder.Eventf(n, after, corev1.EventTypeNormal, "Created", "Create", "Creating %d nodes%s", replicas, ofGroup(after, n))
		case before != nil && after.Generation > before.Generation && ptr.Deref(before.Spec.Replicas, 1) != replicas:
			r.Recorder.Eventf(n, after, corev1.EventTypeNormal, "Scaled", "Scale", "Scaling from %d to %d nodes%s", ptr.Deref(before.Spec.Replicas, 1), replicas, ofGroup(after, n))
		default:
			return
		}
		d.Scaled[after.Name] = netstate.ScaledRecord{UID: after.UID, Generation: after.Generation}
	})
}

// ofGroup says which group a StatefulSet runs, for event messages.
func ofGroup(sts *appsv1.StatefulSet, n *v1alpha1.BitcoinNetwork) string {
	if g := sts.Labels[resources.LabelGroup]; g != "" && len(n.Spec.Groups) > 0 {
		return " in group " + g
	}
	return ""
}
