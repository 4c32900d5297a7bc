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
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
)

// reorgLosingAddress is where the smaller side of a reorg mines: a
// well-known regtest address (BIP 173's test vector) that no one holds.
// Its blocks are replaced anyway; mining to another address than the
// other side's keeps the two sides' blocks apart even when both mine in
// the same second.
const reorgLosingAddress = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

// reorgWinningAddress is where the larger side mines when the network has
// no mining address of its own (no spec.regtest): a pay-to-witness-script
// address of a script no one has (the hash of a phrase).
var reorgWinningAddress = func() string {
	script := sha256.Sum256([]byte("bitcoin-network-operator reorg"))
	a, err := btcutil.NewAddressWitnessScriptHash(script[:], &chaincfg.RegressionNetParams)
	if err != nil {
		panic(err) // a 32-byte program is always valid
	}
	return a.EncodeAddress()
}()

// reorgSide is one side of a reorg as a pass saw it.
type reorgSide struct {
	nodes []peering.Member
	// height is the side's best height; atHeight the ready nodes there.
	height   int64
	atHeight []peering.Member
	// ready counts the side's ready nodes, answered those that answered.
	ready, answered int
}

// mineReorg mines a reorg fault's blocks: once the split holds, it finds
// the base height; then the smaller side mines to base+depth and, once it
// has, the other to base+depth+1. Each side mines on one of its nodes at
// its best height, only after two equal looks at it (as regular mining:
// a call of an earlier operator process may still run). When every ready
// node of each side is at its target, the fault controller heals.
func (p *pass) mineReorg(ctx context.Context, f *v1alpha1.BitcoinNetworkFault, report peering.Report, enforcedBefore bool) {
	if len(f.Status.Sides) != 2 {
		return
	}
	sides := p.reorgSides(f, report)
	if f.Status.ReorgBaseHeight == nil {
		// The base is read once the split has held for a whole pass: a
		// block mined before it may still be crossing.
		if enforcedBefore && sides[0].answered == sides[0].ready && sides[1].answered == sides[1].ready {
			base := max(sides[0].height, sides[1].height)
			p.st.Update(func(d *netstate.Data) {
				if d.Faults.ReorgBase == nil {
					d.Faults.ReorgBase = map[types.UID]int64{}
				}
				if _, ok := d.Faults.ReorgBase[f.UID]; !ok {
					d.Faults.ReorgBase[f.UID] = base
				}
			})
		}
		return
	}
	base, depth := *f.Status.ReorgBaseHeight, int64(f.Spec.Reorg.Depth)
	done := 0
	for s, side := range sides {
		target := base + depth + int64(s)
		if side.height >= target && len(side.atHeight) == side.ready {
			done++
			continue
		}
		if s == 1 && done == 0 || side.height >= target || len(side.atHeight) == 0 {
			// The larger side mines after the smaller one has its blocks,
			// a pass (a second) later: another time, another block.
			return
		}
		p.mineSide(ctx, f, s, side, target)
		return
	}
	if done == 2 {
		p.st.Update(func(d *netstate.Data) {
			if d.Faults.ReorgMined == nil {
				d.Faults.ReorgMined = map[types.UID]bool{}
			}
			d.Faults.ReorgMined[f.UID] = true
		})
	}
}

// reorgSides groups the pass's members by the fault's two sides.
func (p *pass) reorgSides(f *v1alpha1.BitcoinNetworkFault, report peering.Report) [2]reorgSide {
	var sides [2]reorgSide
	for _, m := range p.members {
		name := p.names[m.Ordinal]
		s := slices.IndexFunc(f.Status.Sides, func(side v1alpha1.FaultSideStatus) bool { return slices.Contains(side.Nodes, name) })
		if s < 0 || s > 1 || m.Node == nil {
			continue
		}
		side := &sides[s]
		side.ready++
		r := report.Nodes[m.Ordinal]
		if r == nil || !r.Reachable {
			continue
		}
		side.answered++
		switch h := r.Chain.Blocks; {
		case h > side.height:
			side.height, side.atHeight = h, []peering.Member{m}
		case h == side.height:
			side.atHeight = append(side.atHeight, m)
		}
	}
	return sides
}

// mineSide mines a side up to target on its first node at the side's
// height, once two looks a second apart found that height unchanged (the
// rule of settle, with one look kept per fault and side).
func (p *pass) mineSide(ctx context.Context, f *v1alpha1.BitcoinNetworkFault, s int, side reorgSide, target int64) {
	m := side.atHeight[0]
	name := p.names[m.Ordinal]
	key := fmt.Sprintf("%s/%d", f.UID, s)
	settled := false
	p.st.Update(func(d *netstate.Data) {
		if d.Faults.ReorgLooks == nil {
			d.Faults.ReorgLooks = map[string]netstate.Look{}
		}
		var look netstate.Look
		if look, settled = lookAgain(d.Faults.ReorgLooks[key], name, side.height, p.now); settled {
			delete(d.Faults.ReorgLooks, key)
		} else {
			d.Faults.ReorgLooks[key] = look
		}
	})
	if !settled {
		return
	}
	address := reorgLosingAddress
	if s == 1 {
		address = reorgWinningAddress
		if p.access.MiningAddress != "" {
			address = p.access.MiningAddress
		}
	}
	log := logf.FromContext(ctx)
	hashes, err := m.Node.Mine(ctx, int(target-side.height), address)
	if err != nil {
		log.Info("reorg mining failed", "fault", f.Name, "side", s, "node", name, "error", bitcoin.ErrorClass(err))
		return
	}
	log.Info("reorg side mined", "fault", f.Name, "side", s, "node", name, "blocks", len(hashes), "height", target)
}
