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
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/fault"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// afterHeal is how soon a pass follows one that saw a healed fault whose
// nodes are not yet at one tip (or a fault's first cut): the fault's
// convergence time is measured by passes.
const afterHeal = time.Second

// faults are a network's BitcoinNetworkFaults as a pass uses them.
type faults struct {
	// active is the fault to enforce (the fault controller made it
	// Active); nil for none.
	active *v1alpha1.BitcoinNetworkFault
	// any is true while a fault names the network: the pass then keeps
	// the nodes' bans of network addresses (lifting them after a heal).
	// Healed faults count too: a node that was down during the heal keeps
	// its bans in banlist.json for a day, and they are lifted when it
	// answers again, as long as the fault is not deleted.
	any bool
	// healed are faults whose reorganisations are still to be read.
	healed []*v1alpha1.BitcoinNetworkFault
}

// networkFaults reads the faults of a network from the cache. The fault
// controller decides which is active (one at a time); a pass only follows.
func (p *pass) networkFaults(ctx context.Context) (faults, error) {
	var list v1alpha1.BitcoinNetworkFaultList
	if err := p.r.Client.List(ctx, &list, client.InNamespace(p.n.Namespace)); err != nil {
		return faults{}, fmt.Errorf("listing faults: %w", err)
	}
	var f faults
	for i := range list.Items {
		item := &list.Items[i]
		if item.Spec.NetworkName != p.n.Name || item.Status.NetworkUID != "" && types.UID(item.Status.NetworkUID) != p.n.UID {
			continue
		}
		f.any = true
		switch item.Status.Phase {
		case v1alpha1.FaultActive:
			if f.active == nil || item.CreationTimestamp.Before(&f.active.CreationTimestamp) {
				f.active = item
			}
		case v1alpha1.FaultHealed, v1alpha1.FaultHealing:
			if item.Status.ConvergedAt == nil {
				f.healed = append(f.healed, item)
			}
		}
	}
	return f, nil
}

// applyFaults sets a pass's options for the network's faults.
func (p *pass) applyFaults(f faults, opts *peering.Options) {
	opts.Bans = f.any
	if f.active == nil {
		return
	}
	sides := make([][]string, len(f.active.Status.Sides))
	for i, s := range f.active.Status.Sides {
		sides[i] = s.Nodes
	}
	opts.Side = fault.SideOfIndex(sides, fault.Nodes(p.n))
}

// enforced reports whether the last pass enforced the active fault.
func (p *pass) enforced(f faults) bool {
	var uid types.UID
	p.st.Update(func(d *netstate.Data) { uid = d.Faults.Enforced })
	return f.active != nil && uid == f.active.UID
}

// partitioned is the InSync verdict while a fault keeps the nodes apart:
// expected, and named.
func partitioned(f *v1alpha1.BitcoinNetworkFault, chains []status.NodeChain) status.Sync {
	tips := map[string]bool{}
	for _, c := range chains {
		if c.Err == "" && c.Hash != "" {
			tips[c.Hash] = true
		}
	}
	return status.Sync{
		Status: metav1.ConditionFalse, Reason: status.ReasonPartitioned,
		Message: fmt.Sprintf("BitcoinNetworkFault %s keeps the nodes apart in %d sides (%d tips); %s", f.Name, len(f.Status.Sides), len(tips), healsHow(f)),
	}
}

// rememberFaults records what the fault controller needs from this pass:
// whether the bans are clean once no fault is enforced, when the nodes
// were at one tip, and the reorganisations nodes went through since a
// heal (getchaintips on each node that left its side's tip).
func (p *pass) rememberFaults(ctx context.Context, f faults, report peering.Report, sync status.Sync) {
	clean := f.active == nil
	for _, m := range p.members {
		if r := report.Nodes[m.Ordinal]; m.Node != nil && (r == nil || !r.Reachable || !r.BansKept) {
			clean = false
		}
	}
	reorgs := map[types.UID]map[string]v1alpha1.NodeReorgStatus{}
	for _, h := range f.healed {
		reorgs[h.UID] = p.readReorgs(ctx, h, report)
	}
	p.st.Update(func(d *netstate.Data) {
		fm := &d.Faults
		fm.Enforced = ""
		active := 0
		if f.active != nil {
			fm.Enforced, active = f.active.UID, 1
		}
		metrics.RecordFaults(p.n.Namespace, p.n.Name, active)
		if clean && f.any {
			fm.CleanAt = p.now
		}
		if sync.Reason == status.ReasonAtSameTip {
			fm.OneTipAt = p.now
		}
		if fm.Reorgs == nil {
			fm.Reorgs = map[types.UID]map[string]v1alpha1.NodeReorgStatus{}
		}
		for uid, byNode := range reorgs {
			if fm.Reorgs[uid] == nil {
				fm.Reorgs[uid] = map[string]v1alpha1.NodeReorgStatus{}
			}
			for node, r := range byNode {
				fm.Reorgs[uid][node] = r
			}
		}
	})
}

// readReorgs asks each node whose best block is no longer one its side
// had during the fault where that block went: its branch length in
// getchaintips is how deep the node reorganised.
func (p *pass) readReorgs(ctx context.Context, h *v1alpha1.BitcoinNetworkFault, report peering.Report) map[string]v1alpha1.NodeReorgStatus {
	out := map[string]v1alpha1.NodeReorgStatus{}
	sideTips := map[string][]string{}
	for _, s := range h.Status.Sides {
		var hashes []string
		for _, t := range s.Tips {
			hashes = append(hashes, t.Hash)
		}
		for _, node := range s.Nodes {
			sideTips[node] = hashes
		}
	}
	for _, m := range p.members {
		name := p.names[m.Ordinal]
		r := report.Nodes[m.Ordinal]
		tips := sideTips[name]
		if m.Node == nil || r == nil || !r.Reachable || len(tips) == 0 || slices.Contains(tips, r.Chain.BestBlockHash) {
			continue
		}
		known, err := m.Node.ChainTips(ctx)
		if err != nil {
			continue
		}
		for _, t := range known {
			if slices.Contains(tips, t.Hash) && t.BranchLen > 0 && strings.HasPrefix(t.Status, "valid") {
				out[name] = v1alpha1.NodeReorgStatus{Node: name, Depth: t.BranchLen, ReplacedTip: t.Hash}
			}
		}
	}
	return out
}

func healsHow(f *v1alpha1.BitcoinNetworkFault) string {
	if f.Spec.Reorg != nil {
		return fmt.Sprintf("it heals once both sides have mined (a reorganisation %d deep).", f.Spec.Reorg.Depth)
	}
	return "delete it to heal."
}
