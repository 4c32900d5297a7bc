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
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
)

// SecretKeyCACert is the CA certificate key of the TLS Secret.
const SecretKeyCACert = "ca.crt"

// NewTLSSecret renders a btcd network's TLS Secret, created once: a CA of
// its own and a certificate for every node name under the headless Service
// (and localhost, for tools inside the pod). The CA key is not kept.
func NewTLSSecret(n *v1alpha1.BitcoinNetwork, clusterDomain string, now time.Time) (*corev1.Secret, error) {
	svc := ServiceName(n) + "." + n.Namespace + ".svc"
	b, err := pki.Issue("bitcoin-network "+n.Namespace+"/"+n.Name+" CA",
		[]string{"*." + svc, "*." + svc + "." + clusterDomain, "localhost"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, now)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(n, TLSSecretName(n)),
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			SecretKeyCACert:         b.CACert,
			corev1.TLSCertKey:       b.ServerCert,
			corev1.TLSPrivateKeyKey: b.ServerKey,
		},
	}, nil
}
