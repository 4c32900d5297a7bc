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

// feedBtcd hands a regtest btcd node that is behind on the tip's chain, and
// not catching up by itself, the blocks it lacks, from the node at the tip
// (getblock, submitblock). btcd on regtest takes a sync peer only among
// peers on 127.0.0.1 (btcd netsync's isSyncCandidate), and ignores block
// announcements from other peers while its own tip is over a day old: in a
// cluster, a btcd node behind a regtest chain would stay behind. It
// reports whether it handed any node a block.
func (p *pass) feedBtcd(ctx context.Context, chains []status.NodeChain) bool {
	if p.n.Spec.Chain != v1alpha1.ChainRegtest {
		return false
	}
	tip, ok := status.BestTip(chains)
	if !ok {
		return false
	}
	clients, impls := map[string]bitcoin.Node{}, map[string]bitcoin.Implementation{}
	for _, m := range p.members {
		if m.Node != nil {
			clients[p.names[m.Ordinal]], impls[p.names[m.Ordinal]] = m.Node, m.Implementation
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.r.Options.rpcTimeout())
	defer cancel()
	fed := false
	for _, c := range chains {
		if impls[c.Name] != bitcoin.Btcd || c.Err != "" || c.Hash == tip.Hash || c.Place != status.PlaceOnTipChain || c.Progressed {
			continue
		}
		n := feed(ctx, clients[tip.Name], clients[c.Name], c.Height, min(tip.Height, c.Height+maxFedBlocks))
		if n > 0 {
			fed = true
			logf.FromContext(ctx).Info("handed a btcd node the blocks it lacks", "node", c.Name, "from", tip.Name, "blocks", n, "height", c.Height+int64(n))
		}
	}
	return fed
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
