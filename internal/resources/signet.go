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

package resources

import (
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/signet"
)

// Keys of the signet Secret (and privateKey of a user's key Secret).
const (
	SecretKeySignetPrivateKey = "privateKey"
	SecretKeySignetPublicKey  = "publicKey"
	SecretKeySignetChallenge  = "challenge"
	SecretKeySignetAddress    = "address"
	SecretKeySignetDescriptor = "descriptor"
)

// Defaults of spec.signet.
const (
	DefaultSignetBlockInterval = 30 * time.Second
	DefaultSignetInitialBlocks = 101
)

// SignetSecretName is the Secret with a private signet's generated key.
func SignetSecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-signet" }

// PrivateSignet reports whether the network is a private signet.
func PrivateSignet(n *v1alpha1.BitcoinNetwork) bool {
	return n.Spec.Chain == v1alpha1.ChainSignet && n.Spec.Signet != nil
}

// NewSignetSecret generates a private signet's key, once.
func NewSignetSecret(n *v1alpha1.BitcoinNetwork) (*corev1.Secret, error) {
	k, err := signet.NewKey()
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, SignetSecretName(n)),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			SecretKeySignetPrivateKey: []byte(k.WIF),
			SecretKeySignetPublicKey:  []byte(k.PublicKey),
			SecretKeySignetChallenge:  []byte(hex.EncodeToString(k.Challenge)),
			SecretKeySignetAddress:    []byte(k.Address),
			SecretKeySignetDescriptor: []byte(k.Descriptor),
		},
	}, nil
}

// SignetKey reads the signing key from a Secret: the generated one (its
// challenge must be the key's) or the user's (for spec.signet.challenge).
func SignetKey(n *v1alpha1.BitcoinNetwork, s *corev1.Secret) (signet.Key, error) {
	want := n.Spec.Signet.Challenge
	if want == "" {
		want = string(s.Data[SecretKeySignetChallenge])
	}
	challenge, err := hex.DecodeString(want)
	if err != nil {
		return signet.Key{}, fmt.Errorf("challenge %q: %w", want, err)
	}
	k, err := signet.KeyFromWIF(string(s.Data[SecretKeySignetPrivateKey]), challenge)
	if err != nil {
		return signet.Key{}, fmt.Errorf("key %q: %w", SecretKeySignetPrivateKey, err)
	}
	return k, nil
}

// WithSignetChallenge is the network as its nodes are configured: on a
// private signet whose challenge the operator made, with that challenge.
func WithSignetChallenge(n *v1alpha1.BitcoinNetwork, challenge []byte) *v1alpha1.BitcoinNetwork {
	if !PrivateSignet(n) || n.Spec.Signet.Challenge != "" {
		return n
	}
	out := n.DeepCopy()
	out.Spec.Signet.Challenge = hex.EncodeToString(challenge)
	return out
}

// MiningSpec is what the operator mines on the network, in regtest's
// terms: spec.regtest, or spec.signet's initial blocks and interval (with
// their defaults); nil when it mines nothing.
func MiningSpec(n *v1alpha1.BitcoinNetwork) *v1alpha1.RegtestSpec {
	switch {
	case n.Spec.Regtest != nil: // only on regtest (CEL)
		return n.Spec.Regtest
	case PrivateSignet(n):
		s := n.Spec.Signet
		spec := &v1alpha1.RegtestSpec{InitialBlocks: ptr.Deref(s.InitialBlocks, DefaultSignetInitialBlocks),
			BlockInterval: &metav1.Duration{Duration: DefaultSignetBlockInterval}}
		if s.BlockInterval != nil {
			spec.BlockInterval = s.BlockInterval
		}
		return spec
	}
	return nil
}
