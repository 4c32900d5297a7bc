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

package nodes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/pki"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
)

// suspectTimeout is how long a node whose last observation timed out gets in
// a pass; a background probe with the full deadline brings it back.
const suspectTimeout = time.Second

// keepAliveNodes is the largest network whose nodes' RPC connections stay
// open between passes. Above it a pass closes each node's connection once
// it is done with it: an idle connection costs two goroutines and 8 KiB of
// buffers, 25 MiB or more at 1000 nodes, for a dial saved every pass.
const keepAliveNodes = 64

// pass is one pass over a network's nodes.
type pass struct {
	r      *Reconciler
	n      *v1alpha1.BitcoinNetwork
	st     *netstate.Network
	access netstate.Access
	// sizes are the groups' sizes; offsets their first global indexes.
	sizes, offsets []int
	// members are the network's pods with an IP, by global index (see
	// topology.PlanGroups); those ready have a client.
	members []peering.Member
	// names maps global indexes to pod names; ips pod names to IPs.
	names map[int]string
	// transports are the ready members' HTTP transports, by global index.
	transports map[int]*http.Transport
	ips        map[string]string
	// now is when the pass started, without a monotonic reading (results
	// that hold it are compared).
	now time.Time
}

// runPass verifies and repairs the peers of a network's ready nodes,
// reads their chains, and mines when a regtest network needs blocks.
func (r *Reconciler) runPass(ctx context.Context, n *v1alpha1.BitcoinNetwork, st *netstate.Network, access netstate.Access) (*outcome, error) {
	groups, err := netstate.GroupNodes(ctx, r.Client, n)
	if err != nil {
		return nil, err
	}
	p := &pass{r: r, n: n, st: st, access: access, names: map[int]string{}, ips: map[string]string{}, transports: map[int]*http.Transport{}, now: time.Now().Round(0)}
	if err := p.addMembers(groups); err != nil {
		return nil, err
	}
	opts, progress := p.recall()
	f, err := p.networkFaults(ctx)
	if err != nil {
		return nil, err
	}
	p.applyFaults(f, &opts)
	report, err := peering.Repair(ctx, p.members, opts)
	if err != nil {
		return nil, err
	}
	changed, unconnected, after, next := progress.Next(report, r.checkInterval(n))
	versions := p.remember(report, next)
	chains := p.chains(ctx, report)
	fed := p.feedBtcd(ctx, chains, opts.Side)
	sync := p.assessSync(chains)
	enforcedBefore := p.enforced(f)
	p.rememberFaults(ctx, f, report, sync)
	if f.active != nil {
		sync = partitioned(f.active, chains)
		if f.active.Spec.Reorg != nil {
			p.mineReorg(ctx, f.active, report, enforcedBefore)
		}
	}
	r.probeSuspects(p)
	out := p.outcome(ctx, report, changed, unconnected, versions, sync)
	if tip, ok := status.BestTip(chains); ok {
		out.status.TipHeight, out.status.TipHash, out.status.TipDifficulty = tip.Height, tip.Hash, tip.Difficulty
	}
	out.after = after
	if sync.Recheck > 0 && sync.Recheck < out.after {
		out.after = sync.Recheck
	}
	if fed {
		out.after = min(out.after, afterFeeding)
	}
	if len(f.healed) > 0 || f.active != nil && (out.changes > 0 || f.active.Spec.Reorg != nil) {
		// A heal is timed by passes: look again soon until one tip.
		out.after = min(out.after, afterHeal)
	}
	// A reorg fault mines its own blocks; the network's own mining waits.
	if resources.MiningSpec(n) != nil && access.MiningAddress != "" && (f.active == nil || f.active.Spec.Reorg == nil) {
		var soon time.Duration
		out.status.Mining, soon = p.mine(ctx, report, chains)
		if soon > 0 && soon < out.after {
			out.after = soon
		}
	}
	return out, nil
}

// addMembers makes the members of a pass from the groups' pods: every pod
// with an IP, with a client when it is ready. For btcd the client trusts
// only the network's CA and verifies the node's own name.
func (p *pass) addMembers(groups []netstate.GroupPods) error {
	var pool *x509.CertPool
	if p.access.CAPEM != nil {
		var err error
		if pool, err = pki.CertPool(p.access.CAPEM); err != nil {
			return fmt.Errorf("secret %s: %w", resources.TLSSecretName(p.n), err)
		}
	}
	offset := 0
	for _, g := range groups {
		p.sizes, p.offsets = append(p.sizes, int(g.Nodes)), append(p.offsets, offset)
		for _, pod := range g.Pods {
			p.addMember(g.Group, offset, pod, pool)
		}
		offset += int(g.Nodes)
	}
	return nil
}

// addMember adds one pod of a group whose first global index is offset.
func (p *pass) addMember(g resources.Group, offset int, pod *corev1.Pod, pool *x509.CertPool) {
	ordinal, ok := status.Ordinal(resources.GroupStatefulSetName(p.n, g), pod)
	if !ok || pod.DeletionTimestamp != nil || pod.Status.PodIP == "" {
		return
	}
	ports := resources.PortsFor(g.Implementation, p.n.Spec.Chain)
	impl := bitcoin.Bitcoind
	if g.Implementation == v1alpha1.ImplementationBtcd {
		impl = bitcoin.Btcd
	}
	index := offset + int(ordinal)
	if int(ordinal) >= int(g.Nodes) {
		// A pod above the group's size (being scaled away) gets an index
		// past every group's, so that it plans nothing.
		index = 1<<20 + offset + int(ordinal)
	}
	m := peering.Member{Ordinal: index, P2PAddress: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(ports.P2P))), Implementation: impl}
	if status.PodReady(pod) {
		endpoint := bitcoin.Endpoint{
			Address:  net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(ports.RPC))),
			User:     p.access.Credentials.User,
			Password: p.access.Credentials.Password,
		}
		var transport *http.Transport
		if impl == bitcoin.Btcd {
			transport = p.transport(pod.Name, pool)
		} else {
			transport = p.transport(pod.Name, nil)
		}
		endpoint.TLS = transport.TLSClientConfig
		p.transports[index] = transport
		m.Node = bitcoin.New(impl, endpoint, transport, p.r.Options.RPCTimeout, bitcoin.WithObserver(p.observeRPC))
	}
	p.members = append(p.members, m)
	p.names[index] = pod.Name
	p.ips[pod.Name] = pod.Status.PodIP
}

// observeRPC records a call in the metrics, unless the network is gone.
func (p *pass) observeRPC(method string, took time.Duration, err error) {
	p.st.Update(func(*netstate.Data) { metrics.ObserveRPC(p.n.Namespace, p.n.Name, method, took, err) })
}

// transport is the node's HTTP transport, kept across passes so that its
// connections are reused.
func (p *pass) transport(pod string, pool *x509.CertPool) *http.Transport {
	key := pod
	if pool != nil {
		key += "/" + pki.Fingerprint(p.access.CAPEM)
	}
	var t *http.Transport
	p.st.Update(func(d *netstate.Data) {
		if t = d.Transports[key]; t != nil {
			return
		}
		if pool == nil {
			t = bitcoin.Transport(nil)
		} else {
			t = bitcoin.Transport(&tls.Config{RootCAs: pool, ServerName: resources.NodeServerName(p.n, pod), MinVersion: tls.VersionTLS12})
		}
		d.Transports[key] = t
	})
	if t == nil {
		// The network is gone: a transport for this pass only.
		t = bitcoin.Transport(nil)
	}
	return t
}

// recall returns the repair options of this pass from what earlier passes
// left: the addresses that are (or were) the network's, what silent nodes
// last listed, the suspects, which versions to ask, and the progress.
func (p *pass) recall() (peering.Options, peering.Progress) {
	opts := peering.Options{
		Topology:       topology.Kind(p.n.Spec.Topology),
		Size:           int(resources.TotalNodes(p.n)),
		Sizes:          p.sizes,
		Concurrency:    max(p.r.Options.Concurrency, 1),
		PassTimeout:    p.r.Options.rpcTimeout(),
		Suspect:        map[int]bool{},
		SuspectTimeout: suspectTimeout,
		Known:          map[int][]string{},
	}
	if len(p.members) > keepAliveNodes {
		opts.Release = func(m peering.Member) {
			if t := p.transports[m.Ordinal]; t != nil {
				t.CloseIdleConnections()
			}
		}
	}
	for _, m := range p.members {
		opts.NetworkAddresses = append(opts.NetworkAddresses, m.P2PAddress)
	}
	// Until a pass has run in this process, the status's record (and the
	// nodes' last IPs) stand for the earlier passes'.
	opts.NetworkAddresses = append(opts.NetworkAddresses, p.n.Status.PeerAddresses...)
	for _, old := range p.n.Status.Nodes {
		if old.IP != "" {
			opts.NetworkAddresses = append(opts.NetworkAddresses, net.JoinHostPort(old.IP, strconv.Itoa(int(resources.PortsFor(p.n.Spec.Implementation, p.n.Spec.Chain).P2P))))
		}
	}
	var progress peering.Progress
	p.st.Update(func(d *netstate.Data) {
		opts.NetworkAddresses = append(opts.NetworkAddresses, d.Pass.Record...)
		progress = d.Pass.Progress
		for i, m := range p.members {
			name := p.names[m.Ordinal]
			if d.Pass.Suspects[name] {
				opts.Suspect[m.Ordinal] = true
			}
			if l, ok := d.Pass.Listed[name+"/"+p.ips[name]]; ok {
				opts.Known[m.Ordinal] = l
			}
			if m.Node != nil {
				_, known := d.Pass.Versions[name+"/"+p.ips[name]]
				p.members[i].AskVersion = !known
			}
		}
	})
	return opts, progress
}

// remember keeps what the next pass needs from this one, and returns each
// node's user agent.
func (p *pass) remember(report peering.Report, progress peering.Progress) map[string]string {
	versions := map[string]string{}
	p.st.Update(func(d *netstate.Data) {
		d.Pass.Progress, d.Pass.Record = progress, report.Record
		for ordinal, nr := range report.Nodes {
			name := p.names[ordinal]
			process := name + "/" + p.ips[name]
			if errors.Is(nr.Err, context.DeadlineExceeded) {
				d.Pass.Suspects[name] = true
			} else if nr.Err == nil {
				delete(d.Pass.Suspects, name)
			}
			if nr.Network != nil {
				d.Pass.Versions[process] = nr.Network.Subversion
			}
			if nr.Reachable {
				d.Pass.Listed[process] = nr.Listed
			}
			versions[name] = d.Pass.Versions[process]
		}
		// Forget processes that are gone (a pod restarted with a new IP,
		// or scaled away).
		for k := range d.Pass.Versions {
			if name, ip, _ := strings.Cut(k, "/"); p.ips[name] != ip {
				delete(d.Pass.Versions, k)
			}
		}
		for k := range d.Pass.Listed {
			if name, ip, _ := strings.Cut(k, "/"); p.ips[name] != ip {
				delete(d.Pass.Listed, k)
			}
		}
	})
	return versions
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
