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

package podsim

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

// NodeClient reaches a node's RPC the way a user would: credentials from
// the network's Secret and, for btcd, TLS trusting only the network's CA
// and verifying the node's name.
func NodeClient(ctx context.Context, c client.Reader, n *v1alpha1.BitcoinNetwork, node v1alpha1.NodeStatus, timeout time.Duration) (bitcoin.Node, error) {
	creds := &corev1.Secret{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: n.Status.RPCSecretName}, creds); err != nil {
		return nil, fmt.Errorf("reading the RPC Secret: %w", err)
	}
	var group resources.Group
	for _, g := range resources.Groups(n) {
		if g.Name == node.Group {
			group = g
		}
	}
	ports := resources.PortsFor(group.Implementation, n.Spec.Chain)
	e := bitcoin.Endpoint{
		Address: net.JoinHostPort(node.IP, strconv.Itoa(int(ports.RPC))),
		User:    string(creds.Data[resources.SecretKeyUser]), Password: string(creds.Data[resources.SecretKeyPassword]),
	}
	impl := bitcoin.Bitcoind
	if group.Implementation == v1alpha1.ImplementationBtcd {
		impl = bitcoin.Btcd
		tlsSecret := &corev1.Secret{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: resources.TLSSecretName(n)}, tlsSecret); err != nil {
			return nil, fmt.Errorf("reading the TLS Secret: %w", err)
		}
		pool, err := pki.CertPool(tlsSecret.Data[resources.SecretKeyCACert])
		if err != nil {
			return nil, err
		}
		e.TLS = &tls.Config{RootCAs: pool, ServerName: resources.NodeServerName(n, node.Name), MinVersion: tls.VersionTLS12}
	}
	return bitcoin.New(impl, e, bitcoin.Transport(e.TLS), timeout), nil
}
