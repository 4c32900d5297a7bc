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
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
)

// Keys of the RPC credentials Secrets.
const (
	SecretKeyUser     = "rpcuser"
	SecretKeyPassword = "rpcpassword"
	SecretKeyRPCAuth  = "rpcauth"

	// GeneratedRPCUser is the user of generated credentials.
	GeneratedRPCUser = "bitcoin"
)

// Credentials are the RPC user and password of a network.
type Credentials struct {
	User     string
	Password string
}

// CredentialsFromSecret reads the user and password keys of an RPC Secret,
// or says which key is missing.
func CredentialsFromSecret(s *corev1.Secret) (Credentials, error) {
	user, password := string(s.Data[SecretKeyUser]), string(s.Data[SecretKeyPassword])
	switch {
	case user == "" && password == "":
		return Credentials{}, fmt.Errorf("secret %s has neither the %q nor the %q key", s.Name, SecretKeyUser, SecretKeyPassword)
	case user == "":
		return Credentials{}, fmt.Errorf("secret %s has no %q key", s.Name, SecretKeyUser)
	case password == "":
		return Credentials{}, fmt.Errorf("secret %s has no %q key", s.Name, SecretKeyPassword)
	}
	return Credentials{User: user, Password: password}, nil
}

// maxCredentialsBytes bounds user and password together: Bitcoin Core
// rejects requests whose headers exceed 8 KiB, and the Authorization header
// carries both in base64 (4/3 their size).
const maxCredentialsBytes = 4096

// CheckCredentials says why a node implementation cannot use credentials,
// naming the Secret key at fault: Bitcoin Core splits its -rpcauth value
// "user:salt$hmac" at ':', so a user name with ':' makes it refuse to start;
// it answers 400 to every request with over-long credentials; and no
// process can take a NUL byte in its arguments or environment.
func CheckCredentials(impl v1alpha1.Implementation, c Credentials) error {
	for _, kv := range [][2]string{{SecretKeyUser, c.User}, {SecretKeyPassword, c.Password}} {
		if strings.ContainsRune(kv[1], 0) {
			return fmt.Errorf("key %q contains a NUL byte, which no node process can receive; remove it", kv[0])
		}
	}
	if !impl.BitcoinCore() {
		return nil
	}
	if strings.Contains(c.User, ":") {
		return fmt.Errorf("key %q contains ':', which Bitcoin Core cannot accept in a user name (its rpcauth value is user:salt$hash, and bitcoind would refuse to start); choose a user name without ':'", SecretKeyUser)
	}
	if n := len(c.User) + len(c.Password); n > maxCredentialsBytes {
		return fmt.Errorf("keys %q and %q hold %d bytes together; Bitcoin Core rejects requests whose headers exceed 8 KiB, so keep them under %d bytes", SecretKeyUser, SecretKeyPassword, n, maxCredentialsBytes)
	}
	return nil
}

// NewGeneratedRPCSecret renders the Secret the operator creates, once, when
// spec.rpcSecretName is empty: user "bitcoin", a random 32-byte password and
// the matching bitcoind rpcauth value.
func NewGeneratedRPCSecret(n *v1alpha1.BitcoinNetwork) (*corev1.Secret, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generating RPC password: %w", err)
	}
	salt, err := rpcauth.NewSalt()
	if err != nil {
		return nil, err
	}
	password := base64.RawURLEncoding.EncodeToString(raw)
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, GeneratedRPCSecretName(n)),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			SecretKeyUser:     []byte(GeneratedRPCUser),
			SecretKeyPassword: []byte(password),
			SecretKeyRPCAuth:  []byte(rpcauth.Value(GeneratedRPCUser, salt, password)),
		},
	}, nil
}

// DesiredRPCAuthSecret renders the Secret with the bitcoind rpcauth value
// derived from a user's credentials. Its salt is derived from the network's
// UID, so the value is stable until the password changes and can be applied
// on every reconcile.
func DesiredRPCAuthSecret(n *v1alpha1.BitcoinNetwork, c Credentials) *corev1.Secret {
	sum := sha256.Sum256([]byte("rpcauth-salt/" + string(n.UID) + "/" + c.User))
	salt := hex.EncodeToString(sum[:16])
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, RPCAuthSecretName(n)),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{SecretKeyRPCAuth: []byte(rpcauth.Value(c.User, salt, c.Password))},
	}
}

// CredentialsHash fingerprints the credentials for the pod template's
// config hash, so that new credentials, and nothing else about their Secret
// (labels, annotations, managedFields), roll the nodes. It is an HMAC keyed
// with the network's fingerprint key (see NewFingerprintKeySecret): the
// annotation is readable by anyone who may view the StatefulSet, and a
// plain hash of the password would let them test guesses offline.
func CredentialsHash(c Credentials, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("credentials\x00" + c.User + "\x00" + c.Password))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// FingerprintKeySecretName is the Secret holding a network's fingerprint
// key.
func FingerprintKeySecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-fingerprint-key" }

// SecretKeyFingerprintKey is the fingerprint key's key in its Secret.
const SecretKeyFingerprintKey = "key"

// fingerprintKeyBytes is the fingerprint key's length: SHA-256's block
// size is more than HMAC needs.
const fingerprintKeyBytes = 32

// NewFingerprintKeySecret renders the Secret with a new random key for
// CredentialsHash, created once per network and never rewritten.
func NewFingerprintKeySecret(n *v1alpha1.BitcoinNetwork) (*corev1.Secret, error) {
	key := make([]byte, fingerprintKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating the fingerprint key: %w", err)
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, FingerprintKeySecretName(n)),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{SecretKeyFingerprintKey: key},
	}, nil
}

// FingerprintKey reads the key of a fingerprint key Secret.
func FingerprintKey(s *corev1.Secret) ([]byte, error) {
	key := s.Data[SecretKeyFingerprintKey]
	if len(key) < fingerprintKeyBytes {
		return nil, fmt.Errorf("secret %s: key %q holds %d bytes, want at least %d", s.Name, SecretKeyFingerprintKey, len(key), fingerprintKeyBytes)
	}
	return key, nil
}

// DesiredBtcdConfigSecret renders the Secret btcd nodes read their
// configuration from: each btcd group's configuration (as in the
// ConfigMap) and the RPC credentials. btcd takes credentials only as flags
// or from its config file, and flags would show the password in the node's
// command line.
func DesiredBtcdConfigSecret(n *v1alpha1.BitcoinNetwork, c Credentials, miningAddress string) *corev1.Secret {
	data := map[string][]byte{}
	for _, g := range Groups(n) {
		if g.Implementation != v1alpha1.ImplementationBtcd {
			continue
		}
		// Quoted values are unquoted by btcd's config parser: any password
		// is one line, with no comment or whitespace trimmed.
		conf := NodeConfig(n, g) + "# RPC credentials from " + RPCSecretName(n) + "\n" +
			"rpcuser=" + strconv.Quote(c.User) + "\n" + "rpcpass=" + strconv.Quote(c.Password) + "\n"
		if miningAddress != "" {
			// btcd's generate RPC pays to this address (spec.regtest).
			conf += "# blocks the operator mines pay to\nminingaddr=" + miningAddress + "\n"
		}
		data[configKey(g)] = []byte(conf)
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, BtcdConfigSecretName(n)),
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}

// MinerSecretName is the Secret holding the key a regtest network's blocks
// pay to, when the operator generated it.
func MinerSecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-miner" }

// Keys of the miner Secret.
const (
	SecretKeyMinerPrivateKey = "privateKey"
	SecretKeyMinerAddress    = "address"
	SecretKeyMinerDescriptor = "descriptor"
)

// NewMinerSecret renders the miner Secret with a new regtest key. It is
// created once and never rewritten: the coins mined to it stay spendable.
func NewMinerSecret(n *v1alpha1.BitcoinNetwork) (*corev1.Secret, error) {
	k, err := miner.NewKey(MinerAddressType(n))
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, MinerSecretName(n)),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			SecretKeyMinerPrivateKey: []byte(k.WIF),
			SecretKeyMinerAddress:    []byte(k.Address),
			SecretKeyMinerDescriptor: []byte(k.Descriptor),
		},
	}, nil
}

// MinerAddressType is the address type a network's generated key pays to:
// segwit on Bitcoin Core, legacy where a group runs btcd (see miner.P2PKH:
// btcd's regtest activates segwit only at 432 blocks, and would refuse the
// coins' spends from its mempool before).
func MinerAddressType(n *v1alpha1.BitcoinNetwork) miner.AddressType {
	if HasImplementation(n, v1alpha1.ImplementationBtcd) {
		return miner.P2PKH
	}
	return miner.P2WPKH
}

// MinerAddress returns the address of a miner Secret, checking that it is
// the private key's: an edited Secret would have blocks pay to an address
// whose key nobody holds.
func MinerAddress(n *v1alpha1.BitcoinNetwork, s *corev1.Secret) (string, error) {
	k, err := miner.KeyFromWIF(string(s.Data[SecretKeyMinerPrivateKey]), MinerAddressType(n))
	if err != nil {
		return "", fmt.Errorf("key %q: %w", SecretKeyMinerPrivateKey, err)
	}
	if got := string(s.Data[SecretKeyMinerAddress]); got != k.Address {
		return "", fmt.Errorf("key %q is not the address of key %q", SecretKeyMinerAddress, SecretKeyMinerPrivateKey)
	}
	return k.Address, nil
}
