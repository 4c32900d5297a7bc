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
	"time"

	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// maxFedBlocks bounds the blocks handed to one node in a pass.
const maxFedBlocks = 200

// afterFeeding is how soon a pass follows one that handed a node blocks.
const afterFeeding = time.Second

// feedBtcd hands a regtest btcd node that is behind, and not catching up
// by itself, the blocks of the best chain it lacks, from the node at that
// tip (getblock, submitblock): from its own height when it is on the tip's
// chain, else from where the two chains part (after a partition or a reorg
// fault heals). btcd on regtest takes a sync peer only among peers on
// 127.0.0.1 (btcd netsync's isSyncCandidate), and ignores block
// announcements from other peers while its own tip is over a day old: in a
// cluster, a btcd node behind a regtest chain would stay behind. While a
// fault splits the network (side: global index to side), a node is fed
// only from the best tip of its own side. It reports whether it handed any
// node a block.
func (p *pass) feedBtcd(ctx context.Context, chains []status.NodeChain, side []int) bool {
	if p.n.Spec.Chain != v1alpha1.ChainRegtest {
		return false
	}
	clients, impls, sideOf := map[string]bitcoin.Node{}, map[string]bitcoin.Implementation{}, map[string]int{}
	for _, m := range p.members {
		name := p.names[m.Ordinal]
		if m.Node != nil {
			clients[name], impls[name] = m.Node, m.Implementation
		}
		if m.Ordinal < len(side) {
			sideOf[name] = side[m.Ordinal]
		}
	}
	bySide := map[int][]status.NodeChain{}
	for _, c := range chains {
		bySide[sideOf[c.Name]] = append(bySide[sideOf[c.Name]], c)
	}
	global, _ := status.BestTip(chains)
	ctx, cancel := context.WithTimeout(ctx, p.r.Options.rpcTimeout())
	defer cancel()
	fed := false
	for _, own := range bySide {
		tip, ok := status.BestTip(own)
		if !ok {
			continue
		}
		for _, c := range own {
			if impls[c.Name] != bitcoin.Btcd || c.Err != "" || c.Hash == tip.Hash || c.Height >= tip.Height || c.Progressed {
				continue
			}
			src, dst := clients[tip.Name], clients[c.Name]
			from := c.Height
			if tip.Hash != global.Hash || c.Place != status.PlaceOnTipChain {
				var found bool
				if from, found = forkHeight(ctx, src, dst, c.Height); !found {
					continue
				}
			}
			n := feed(ctx, src, dst, from, min(tip.Height, from+maxFedBlocks))
			if n > 0 {
				fed = true
				logf.FromContext(ctx).Info("handed a btcd node the blocks it lacks", "node", c.Name, "from", tip.Name, "forkHeight", from, "blocks", n, "height", from+int64(n))
			}
		}
	}
	return fed
}

// forkHeight finds the highest height at or below top at which src's and
// dst's best chains have the same block, looking at most maxFedBlocks
// down (a binary search: below the fork the chains agree, above it they
// do not). found is false when they differ even there, or a node did not
// answer.
func forkHeight(ctx context.Context, src, dst bitcoin.Node, top int64) (height int64, found bool) {
	same := func(h int64) (bool, bool) {
		a, err := src.BlockHash(ctx, h)
		if err != nil {
			return false, false
		}
		b, err := dst.BlockHash(ctx, h)
		return a == b, err == nil
	}
	lo := max(0, top-maxFedBlocks)
	if agree, ok := same(lo); !ok || !agree {
		return 0, false
	}
	hi := top + 1 // the chains are taken to differ above top
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		agree, ok := same(mid)
		if !ok {
			return 0, false
		}
		if agree {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, true
}

// feed submits the blocks above height up to to, from src to dst, in
// order; it returns how many dst took before the first failure.
func feed(ctx context.Context, src, dst bitcoin.Node, height, to int64) int {
	n := 0
	for h := height + 1; h <= to; h++ {
		block, err := src.BlockAt(ctx, h)
		if err != nil {
			return n
		}
		if err := dst.SubmitBlock(ctx, block); err != nil {
			return n
		}
		n++
	}
	return n
}
