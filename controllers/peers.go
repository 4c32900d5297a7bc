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

package controllers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
)

// PeerOptions configure how the operator talks to the nodes.
type PeerOptions struct {
	// RPCTimeout bounds each RPC call (default bitcoin.DefaultTimeout).
	RPCTimeout time.Duration
	// CheckInterval is how often peers are verified when nothing changes,
	// unless the network sets spec.peerCheckInterval (default 30s).
	CheckInterval time.Duration
	// Concurrency bounds the nodes of one network called at once.
	Concurrency int
	// NetworkConcurrency bounds the networks checked at once (default
	// DefaultNetworkConcurrency).
	NetworkConcurrency int
}

func (o PeerOptions) rpcTimeout() time.Duration {
	if o.RPCTimeout > 0 {
		return o.RPCTimeout
	}
	return bitcoin.DefaultTimeout
}

// DefaultPeerCheckInterval is the default period of peer verification.
const DefaultPeerCheckInterval = 30 * time.Second

// nodeAccess is what the operator needs to call a network's nodes.
type nodeAccess struct {
	credentials resources.Credentials
	// caPEM is the network's CA certificate (btcd), nil for bitcoind.
	caPEM []byte
	// miningAddress is where a regtest network's blocks go (spec.regtest).
	miningAddress string
}

// transportCache keeps one HTTP transport per network and CA, so RPC
// connections are reused across reconciles.
type transportCache struct {
	mu sync.Mutex
	m  map[string]*http.Transport
}

// forget closes and drops the transports of a network that is gone.
func (c *transportCache) forget(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix := namespace + "/" + name + "/"
	for k, t := range c.m {
		if strings.HasPrefix(k, prefix) {
			t.CloseIdleConnections()
			delete(c.m, k)
		}
	}
}

func (c *transportCache) get(key string, newTransport func() (*http.Transport, error)) (*http.Transport, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[key]; ok {
		return t, nil
	}
	t, err := newTransport()
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*http.Transport{}
	}
	c.m[key] = t
	return t, nil
}

// peerCheck is the outcome of one verify-and-repair pass.
type peerCheck struct {
	status *status.Peering
	// repaired counts, per node, the planned peers it was given that the
	// previous pass had not already tried (see peering.Progress); changes
	// counts those adds and the removals alike.
	repaired map[string]int
	changes  int
	// after is when to check again.
	after time.Duration
}

// checkPeers verifies and repairs the peer network of a network's ready
// nodes, and returns what it saw and changed.
func (p *peeringReconciler) checkPeers(ctx context.Context, n *v1alpha1.BitcoinNetwork, pods []corev1.Pod, access nodeAccess) (*peerCheck, error) {
	r := p.BitcoinNetworkReconciler
	impl := bitcoin.Bitcoind
	if n.Spec.Implementation == v1alpha1.ImplementationBtcd {
		impl = bitcoin.Btcd
	}
	var pool *x509.CertPool
	if access.caPEM != nil {
		var err error
		if pool, err = pki.CertPool(access.caPEM); err != nil {
			return nil, fmt.Errorf("secret %s: %w", resources.TLSSecretName(n), err)
		}
	}
	// One transport per node keeps its connections alive across
	// reconciles; for btcd it trusts only the network's CA and verifies
	// the node's own name in its certificate.
	transportFor := func(pod string) (*http.Transport, error) {
		key := n.Namespace + "/" + n.Name + "/" + pod + "/" + string(n.UID) + "/" + pki.Fingerprint(access.caPEM)
		return r.transports.get(key, func() (*http.Transport, error) {
			if pool == nil {
				return bitcoin.Transport(nil), nil
			}
			return bitcoin.Transport(&tls.Config{RootCAs: pool, ServerName: resources.NodeServerName(n, pod), MinVersion: tls.VersionTLS12}), nil
		})
	}
	ports := resources.PortsFor(n.Spec.Implementation, n.Spec.Chain)
	p2p := func(ip string) string { return net.JoinHostPort(ip, strconv.Itoa(int(ports.P2P))) }

	key := types.NamespacedName{Namespace: n.Namespace, Name: n.Name}
	observe := rpcObserver(n.Namespace, n.Name)
	var members []peering.Member
	var networkAddresses []string
	names := map[int]string{}
	nodes := map[string]bitcoin.Node{}
	ipOf := map[string]string{}
	for i := range pods {
		pod := &pods[i]
		ordinal, ok := status.Ordinal(resources.StatefulSetName(n), pod)
		if !ok || pod.DeletionTimestamp != nil || pod.Status.PodIP == "" {
			continue
		}
		networkAddresses = append(networkAddresses, p2p(pod.Status.PodIP))
		m := peering.Member{Ordinal: int(ordinal), P2PAddress: p2p(pod.Status.PodIP)}
		if status.PodReady(pod) {
			endpoint := bitcoin.Endpoint{
				Address:  net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(ports.RPC))),
				User:     access.credentials.User,
				Password: access.credentials.Password,
			}
			transport, err := transportFor(pod.Name)
			if err != nil {
				return nil, err
			}
			endpoint.TLS = transport.TLSClientConfig
			m.Node = bitcoin.New(impl, endpoint, transport, r.Peers.RPCTimeout, bitcoin.WithObserver(observe))
			nodes[pod.Name] = m.Node
		}
		members = append(members, m)
		names[int(ordinal)] = pod.Name
		ipOf[pod.Name] = pod.Status.PodIP
	}
	// Addresses of nodes that are gone (scaled away, or restarted with a
	// new IP) are still ours until no node lists them: the last pass's
	// record keeps them, and the status's, which survives a restart (with
	// the last node list, for a status written before the record existed).
	var progress peering.Progress
	var suspects map[int]bool
	p.store.with(key, func(st *peerState) {
		networkAddresses = append(networkAddresses, st.record...)
		progress = st.progress
		suspects = suspectOrdinals(st.suspects, names)
		// A node process's version is asked once.
		for i, m := range members {
			if m.Node != nil {
				_, known := st.versions[names[m.Ordinal]+"/"+ipOf[names[m.Ordinal]]]
				members[i].AskVersion = !known
			}
		}
	})
	networkAddresses = append(networkAddresses, n.Status.PeerAddresses...)
	for _, old := range n.Status.Nodes {
		if old.IP != "" {
			networkAddresses = append(networkAddresses, p2p(old.IP))
		}
	}

	report, err := peering.Repair(ctx, members, peering.Options{
		Implementation:   impl,
		Topology:         topology.Kind(n.Spec.Topology),
		Size:             int(n.Spec.Nodes),
		NetworkAddresses: networkAddresses,
		Concurrency:      max(r.Peers.Concurrency, 1),
		PassTimeout:      r.Peers.rpcTimeout(),
		Suspect:          suspects,
		SuspectTimeout:   suspectTimeout,
	})
	if err != nil {
		return nil, err
	}
	log := logf.FromContext(ctx)
	changed, after, next := progress.Next(report, r.checkInterval(n))
	var chains []status.NodeChain
	var sync status.Sync
	versions := map[string]string{}
	p.store.with(key, func(st *peerState) {
		st.progress, st.record = next, report.Record
		for ordinal, nr := range report.Nodes {
			name := names[ordinal]
			if errors.Is(nr.Err, context.DeadlineExceeded) {
				st.suspects[name] = true
			} else if nr.Err == nil {
				delete(st.suspects, name)
			}
			ipKey := name + "/" + ipOf[name]
			if nr.Network != nil {
				st.versions[ipKey] = nr.Network.Subversion
			}
			versions[name] = st.versions[ipKey]
			if nr.Reachable && nr.Chain.BestBlockHash != "" {
				chains = append(chains, status.NodeChain{Name: name, Height: nr.Chain.Blocks, Hash: nr.Chain.BestBlockHash})
			}
		}
		for k := range st.versions {
			name, ip, _ := strings.Cut(k, "/")
			if ipOf[name] != ip {
				delete(st.versions, k) // a process that is gone
			}
		}
		sync = status.AssessSync(chains, st.syncSince, time.Now())
		st.syncSince = sync.Since
	})
	p.probeSuspects(n, nodes)
	check := &peerCheck{
		status: &status.Peering{
			Nodes:        map[string]status.NodePeering{},
			PlannedEdges: report.PlannedEdges, ConnectedEdges: report.ConnectedEdges, WaitingEdges: report.WaitingEdges,
			Addresses: report.Record,
			// When the nodes first differed is the store's to keep: the
			// outcome changes only with what the status shows.
			Sync: &status.Sync{Status: sync.Status, Reason: sync.Reason, Message: sync.Message},
		},
		repaired: map[string]int{},
		after:    after,
	}
	for ordinal, nr := range report.Nodes {
		name := names[ordinal]
		np := status.NodePeering{Peers: int32(nr.Peers), ExpectedPeers: int32(nr.ExpectedPeers), BlockHeight: nr.BlockHeight,
			BestBlockHash: nr.Chain.BestBlockHash, Headers: nr.Chain.Headers, InitialBlockDownload: nr.Chain.InitialBlockDownload,
			UserAgent: versions[name]}
		if nr.Err != nil {
			np.Message = rpcMessage(nr.Err)
			// Once per change of what the node answers, not every pass.
			level := 1
			if !slices.ContainsFunc(n.Status.Nodes, func(s v1alpha1.NodeStatus) bool { return s.Name == name && s.Message == np.Message }) {
				level = 0
			}
			log.V(level).Info("node unreachable", "node", name, "error", np.Message)
		}
		if len(nr.ConnectFailed) > 0 {
			log.Info("peers added but not connected yet; the node keeps trying", "node", name, "peers", nr.ConnectFailed)
		}
		if c, ok := changed[ordinal]; ok {
			for _, a := range c.Add {
				log.Info("peer added", "node", name, "peer", a)
			}
			for _, a := range c.Remove {
				log.Info("peer removed", "node", name, "peer", a)
			}
			check.repaired[name] = len(c.Add)
			check.changes += len(c.Add) + len(c.Remove)
		} else if len(nr.Added) > 0 || len(nr.Removed) > 0 {
			log.V(1).Info("repeated repairs without progress", "node", name, "added", nr.Added, "removed", nr.Removed, "nextCheck", after)
		}
		check.status.Nodes[name] = np
	}
	if n.Spec.Regtest != nil && access.miningAddress != "" {
		var soon time.Duration
		check.status.Mining, soon = p.mine(ctx, n, members, report, access.miningAddress)
		if soon > 0 && soon < check.after {
			check.after = soon
		}
	}
	return check, nil
}

// rpcMessage turns an RPC error into a status message. The client never
// puts credentials into errors; this keeps messages short and stable.
func rpcMessage(err error) string {
	switch {
	case errors.Is(err, bitcoin.ErrUnauthorized):
		return "RPC credentials rejected: the node's credentials differ from the network's Secret"
	case bitcoin.IsWarmingUp(err):
		return "node is loading (RPC -28)"
	case errors.Is(err, context.DeadlineExceeded):
		return "RPC call timed out"
	}
	msg := err.Error()
	if len(msg) > 256 {
		msg = msg[:256]
	}
	return msg
}

// checkInterval is how often a network's peers are verified when nothing
// changes.
func (r *BitcoinNetworkReconciler) checkInterval(n *v1alpha1.BitcoinNetwork) time.Duration {
	switch {
	case n.Spec.PeerCheckInterval != nil:
		return n.Spec.PeerCheckInterval.Duration
	case r.Peers.CheckInterval > 0:
		return r.Peers.CheckInterval
	}
	return DefaultPeerCheckInterval
}
