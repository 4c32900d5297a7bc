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
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/signet"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// previousNetworkError means a Secret the network needs still belongs to an
// earlier network of the same name, which the garbage collector is
// removing: the reconcile waits for it (its deletion wakes the network).
type previousNetworkError struct{ secret, uid string }

func (e *previousNetworkError) Error() string {
	return fmt.Sprintf("secret %s belongs to an earlier BitcoinNetwork of this name (uid %s); waiting for the garbage collector to remove it", e.secret, e.uid)
}

// waitForPrevious is how soon a reconcile waiting for an earlier network's
// Secret to go runs again, should no deletion event come first.
const waitForPrevious = 2 * time.Second

// isPreviousNetwork reports whether err is a previousNetworkError.
func isPreviousNetwork(err error) bool {
	var pe *previousNetworkError
	return errors.As(err, &pe)
}

// secretOnce returns the network's Secret at name, creating it from render
// when it does not exist. It never rewrites an existing Secret, and uses
// only one that this network controls: one an earlier network of the same
// name controls is waited for (a previousNetworkError), any other is a
// problem naming it.
func (r *Reconciler) secretOnce(ctx context.Context, n *v1alpha1.BitcoinNetwork, name, created string, render func() (*corev1.Secret, error)) (*corev1.Secret, *status.Problem, error) {
	key := types.NamespacedName{Namespace: n.Namespace, Name: name}
	secret := &corev1.Secret{}
	err := r.Client.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		if secret, err = render(); err != nil {
			return nil, nil, fmt.Errorf("rendering Secret %s: %w", name, err)
		}
		err = r.Client.Create(ctx, secret, client.FieldOwner(resources.FieldOwner))
		if err == nil {
			logf.FromContext(ctx).Info(created, "secret", name)
			return secret, nil, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, nil, fmt.Errorf("creating Secret %s: %w", name, err)
		}
		// The cache had not seen it yet.
		secret = &corev1.Secret{}
		err = r.APIReader.Get(ctx, key, secret)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading Secret %s: %w", name, err)
	}
	if metav1.IsControlledBy(secret, n) {
		return secret, nil, nil
	}
	owner := metav1.GetControllerOf(secret)
	if owner != nil && owner.Kind == "BitcoinNetwork" && owner.Name == n.Name && owner.APIVersion == v1alpha1.GroupVersion.String() {
		return nil, nil, &previousNetworkError{secret: name, uid: string(owner.UID)}
	}
	by := "no controller"
	if owner != nil {
		by = fmt.Sprintf("the %s %s", owner.Kind, owner.Name)
	}
	return nil, &status.Problem{Reason: status.ReasonSecretNotOwned, Message: fmt.Sprintf(
		"Secret %s exists and is not this network's (it has %s): the operator creates it and uses no other; delete or rename it", name, by)}, nil
}

// fingerprintKey is a network's key for the credentials fingerprint, or the
// problem with its Secret.
type fingerprintKey struct {
	key     []byte
	problem *status.Problem
}

// fingerprintKey returns the network's fingerprint key, creating its Secret
// once.
func (r *Reconciler) fingerprintKey(ctx context.Context, n *v1alpha1.BitcoinNetwork) (fingerprintKey, error) {
	name := resources.FingerprintKeySecretName(n)
	secret, problem, err := r.secretOnce(ctx, n, name, "generated the credentials fingerprint key",
		func() (*corev1.Secret, error) { return resources.NewFingerprintKeySecret(n) })
	if err != nil || problem != nil {
		return fingerprintKey{problem: problem}, err
	}
	key, err := resources.FingerprintKey(secret)
	if err != nil {
		return fingerprintKey{problem: &status.Problem{Reason: status.ReasonSecretInvalid, Message: fmt.Sprintf(
			"%v; delete the Secret to have the operator generate a new key (the nodes restart once)", err)}}, nil
	}
	return fingerprintKey{key: key}, nil
}

// tlsSecret returns a btcd network's TLS Secret, creating it once, or the
// problem with it (a CA the operator cannot use to verify its nodes).
func (r *Reconciler) tlsSecret(ctx context.Context, n *v1alpha1.BitcoinNetwork) (*corev1.Secret, *status.Problem, error) {
	name := resources.TLSSecretName(n)
	secret, problem, err := r.secretOnce(ctx, n, name, "issued RPC TLS certificate",
		func() (*corev1.Secret, error) { return resources.NewTLSSecret(n, r.ClusterDomain, time.Now()) })
	if err != nil || problem != nil {
		return nil, problem, err
	}
	if _, err := pki.CertPool(secret.Data[resources.SecretKeyCACert]); err != nil {
		return nil, &status.Problem{Reason: status.ReasonSecretInvalid, Message: fmt.Sprintf(
			"Secret %s: key %q: %v; the operator cannot verify its nodes with it: delete the Secret to have a new CA and certificate issued (the nodes restart once)",
			name, resources.SecretKeyCACert, err)}, nil
	}
	return secret, nil, nil
}

// miningAddress returns the address a regtest network's blocks pay to:
// spec.regtest.miningAddress, or the one in the miner Secret, which it
// creates once with a new key.
func (r *Reconciler) miningAddress(ctx context.Context, n *v1alpha1.BitcoinNetwork) (address, secretName string, problem *status.Problem, err error) {
	if a := n.Spec.Regtest.MiningAddress; a != "" {
		if err := miner.CheckAddress(a); err != nil {
			return "", "", &status.Problem{Reason: status.ReasonMiningAddress, Message: "spec.regtest.miningAddress: " + err.Error() +
				"; give a regtest address, or remove the field to have the operator generate a key"}, nil
		}
		return a, "", nil, nil
	}
	name := resources.MinerSecretName(n)
	secret, problem, err := r.secretOnce(ctx, n, name, "generated the regtest mining key", func() (*corev1.Secret, error) { return resources.NewMinerSecret(n) })
	if err != nil || problem != nil {
		return "", "", problem, err
	}
	if address, err = resources.MinerAddress(n, secret); err != nil {
		return "", "", &status.Problem{Reason: status.ReasonMiningAddress, Message: fmt.Sprintf(
			"Secret %s: %v; delete the Secret to have the operator generate a new key, or set spec.regtest.miningAddress", name, err)}, nil
	}
	return address, name, nil, nil
}

// credentials returns the RPC credentials of a network: from the user's
// Secret, or from the Secret the operator generates once. For bitcoind with
// a user Secret it also applies the derived rpcauth Secret.
func (r *Reconciler) credentials(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network) (resources.Credentials, *status.Problem, error) {
	secret, problem, err := r.rpcSecret(ctx, n)
	if err != nil || problem != nil {
		return resources.Credentials{}, problem, err
	}
	creds, err := resources.CredentialsFromSecret(secret)
	if err == nil {
		impl := v1alpha1.ImplementationBtcd
		if resources.RunsBitcoinCore(n) {
			impl = v1alpha1.ImplementationBitcoind // Core's rules are the stricter
		}
		if err = resources.CheckCredentials(impl, creds); err != nil {
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
	if n.Spec.RPCSecretName == "" && resources.RunsBitcoinCore(n) &&
		!rpcauth.Matches(string(secret.Data[resources.SecretKeyRPCAuth]), creds.User, creds.Password) {
		// Someone edited the generated Secret: bitcoind would reject the
		// password clients read from it.
		return resources.Credentials{}, &status.Problem{Reason: status.ReasonRPCSecretInvalid, Message: fmt.Sprintf(
			"Secret %s: its %q key does not match %q; delete the Secret to have the operator generate new credentials, or set spec.rpcSecretName",
			secret.Name, resources.SecretKeyRPCAuth, resources.SecretKeyPassword)}, nil
	}
	if n.Spec.RPCSecretName != "" && resources.RunsBitcoinCore(n) {
		if err := r.applyObject(ctx, st, resources.DesiredRPCAuthSecret(n, creds)); err != nil {
			return resources.Credentials{}, nil, err
		}
	}
	return creds, nil, nil
}

// rpcSecret reads the user's Secret named in spec.rpcSecretName, or the
// generated one, creating it once.
func (r *Reconciler) rpcSecret(ctx context.Context, n *v1alpha1.BitcoinNetwork) (*corev1.Secret, *status.Problem, error) {
	key := types.NamespacedName{Namespace: n.Namespace, Name: resources.RPCSecretName(n)}
	if n.Spec.RPCSecretName == "" {
		return r.secretOnce(ctx, n, key.Name, "generated RPC credentials",
			func() (*corev1.Secret, error) { return resources.NewGeneratedRPCSecret(n) })
	}
	return r.userSecret(ctx, key, &status.Problem{Reason: status.ReasonRPCSecretNotFound, Message: fmt.Sprintf(
		"spec.rpcSecretName: Secret %q not found in namespace %q; create it with the keys %q and %q",
		key.Name, key.Namespace, resources.SecretKeyUser, resources.SecretKeyPassword)})
}

// userSecret reads a Secret the user names, from the API server: the
// cache keeps foreign Secrets without their data. A missing one is
// notFound, for the user to act on.
func (r *Reconciler) userSecret(ctx context.Context, key types.NamespacedName, notFound *status.Problem) (*corev1.Secret, *status.Problem, error) {
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFound, nil
		}
		return nil, nil, fmt.Errorf("reading Secret %s: %w", key.Name, err)
	}
	return secret, nil, nil
}

// signetKey resolves a private signet's signing key (spec.signet): the
// one the operator made once, or the user's for a challenge of their own.
// key is nil when a user's challenge names no key: the nodes run and the
// operator makes no blocks.
func (r *Reconciler) signetKey(ctx context.Context, n *v1alpha1.BitcoinNetwork) (key *signet.Key, secretName string, problem *status.Problem, err error) {
	s := n.Spec.Signet
	if s.Challenge != "" {
		raw, err := hex.DecodeString(s.Challenge)
		if err == nil {
			err = signet.CheckChallenge(raw)
		}
		if err != nil {
			return nil, "", &status.Problem{Reason: status.ReasonSignetChallenge, Message: fmt.Sprintf(
				"spec.signet.challenge: %v; give a script in hex (e.g. 5121<compressed public key>51ae), or remove it to have the operator make a key", err)}, nil
		}
	}
	var secret *corev1.Secret
	switch {
	case s.Challenge == "":
		secretName = resources.SignetSecretName(n)
		if secret, problem, err = r.secretOnce(ctx, n, secretName, "generated the signet key", func() (*corev1.Secret, error) { return resources.NewSignetSecret(n) }); err != nil || problem != nil {
			return nil, "", problem, err
		}
	case s.KeySecretName == "":
		return nil, "", nil, nil
	default:
		secretName = s.KeySecretName
		if secret, problem, err = r.userSecret(ctx, types.NamespacedName{Namespace: n.Namespace, Name: secretName}, &status.Problem{Reason: status.ReasonSignetKey, Message: fmt.Sprintf(
			"spec.signet.keySecretName: Secret %q not found in namespace %q; create it with the key %q (WIF)", secretName, n.Namespace, resources.SecretKeySignetPrivateKey)}); err != nil || problem != nil {
			return nil, "", problem, err
		}
	}
	k, err := resources.SignetKey(n, secret)
	if err != nil {
		return nil, "", &status.Problem{Reason: status.ReasonSignetKey, Message: fmt.Sprintf("Secret %s: %v", secretName, err)}, nil
	}
	return &k, secretName, nil, nil
}
