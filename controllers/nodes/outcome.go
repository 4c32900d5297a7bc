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
	"slices"

	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// outcome turns a pass's report into the status it shows, logging each
// change it made once.
func (p *pass) outcome(ctx context.Context, report peering.Report, changed, unconnected map[int]peering.Actions, versions map[string]string, sync status.Sync) *outcome {
	out := &outcome{
		status: &status.Peering{
			Nodes:        map[string]status.NodePeering{},
			PlannedEdges: report.PlannedEdges, ConnectedEdges: report.ConnectedEdges, WaitingEdges: report.WaitingEdges,
			Addresses: report.Record,
			// When the nodes first differed is the pass memory's to keep:
			// the outcome changes only with what the status shows.
			Sync: &status.Sync{Status: sync.Status, Reason: sync.Reason, Message: sync.Message},
		},
		repaired: map[string]int{},
	}
	for ordinal, nr := range report.Nodes {
		name := p.names[ordinal]
		np := status.NodePeering{Peers: int32(nr.Peers), ExpectedPeers: int32(nr.ExpectedPeers), BlockHeight: nr.BlockHeight,
			BestBlockHash: nr.Chain.BestBlockHash, Headers: nr.Chain.Headers, InitialBlockDownload: nr.Chain.InitialBlockDownload,
			UserAgent: versions[name]}
		if nr.Err != nil {
			np.Message = rpcMessage(nr.Err)
		} else {
			np.MempoolTransactions = &nr.Mempool
		}
		p.logNode(ctx, name, np, changed[ordinal], unconnected[ordinal], nr)
		if c, ok := changed[ordinal]; ok {
			out.repaired[name] = len(c.Add)
			out.changes += len(c.Add) + len(c.Remove)
		}
		out.status.Nodes[name] = np
	}
	return out
}

// logNode logs what a pass saw of and did to one node: a node that stopped
// answering once per change of its answer, each repair once, and repairs
// repeated without progress at debug level.
func (p *pass) logNode(ctx context.Context, name string, np status.NodePeering, changed, unconnected peering.Actions, nr *peering.NodeReport) {
	log := logf.FromContext(ctx)
	if np.Message != "" {
		level := 1
		if !slices.ContainsFunc(p.n.Status.Nodes, func(s v1alpha1.NodeStatus) bool { return s.Name == name && s.Message == np.Message }) {
			level = 0
		}
		log.V(level).Info("node unreachable", "node", name, "error", np.Message)
	}
	if len(unconnected.Add) > 0 {
		log.Info("peers added earlier are not connected yet; added again", "node", name, "peers", unconnected.Add)
	}
	for _, a := range changed.Add {
		log.Info("peer added", "node", name, "peer", a)
	}
	for _, a := range changed.Remove {
		log.Info("peer removed", "node", name, "peer", a)
	}
	if len(nr.Closed) > 0 {
		log.Info("second connections to a peer closed", "node", name, "connections", nr.Closed)
	}
	if len(changed.Add)+len(changed.Remove) == 0 && len(nr.Added)+len(nr.Removed) > 0 {
		log.V(1).Info("repeated repairs without progress", "node", name, "added", nr.Added, "removed", nr.Removed)
	}
}

// probeSuspects calls each suspect node once with the full deadline, in
// the background, and wakes the node controller when one answers.
func (r *Reconciler) probeSuspects(p *pass) {
	for _, m := range p.members {
		name := p.names[m.Ordinal]
		start := false
		p.st.Update(func(d *netstate.Data) {
			if start = m.Node != nil && d.Pass.Suspects[name] && !d.Pass.Probing[name]; start {
				d.Pass.Probing[name] = true
			}
		})
		if !start {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), r.Options.rpcTimeout())
			defer cancel()
			_, err := m.Node.BlockCount(ctx)
			p.st.Update(func(d *netstate.Data) {
				delete(d.Pass.Probing, name)
				if err == nil {
					delete(d.Pass.Suspects, name)
				}
			})
			if err == nil && !p.st.Gone() {
				netstate.Wake(ctx, r.WakeSelf, p.st.Key)
			}
		}()
	}
}
