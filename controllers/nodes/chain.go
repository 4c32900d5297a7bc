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
	"maps"
	"math/big"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// maxPlaceLookups bounds the getblockheader calls of a pass: one per node
// that differs from the tip, for the first this many.
const maxPlaceLookups = 16

// chains are the ready nodes' chains as this pass read them, every ready
// node included (one that gave no answer says why). The node at the tip
// is asked where the others' best blocks stand: behind on its chain, or on
// another branch.
func (p *pass) chains(ctx context.Context, report peering.Report) []status.NodeChain {
	var last map[string]int64
	p.st.Update(func(d *netstate.Data) { last = maps.Clone(d.Pass.Heights) })
	var chains []status.NodeChain
	clients := map[string]bitcoin.Node{}
	heights := map[string]int64{}
	for _, m := range p.members {
		if m.Node == nil {
			continue
		}
		name := p.names[m.Ordinal]
		clients[name] = m.Node
		chains = append(chains, nodeChain(name, report.Nodes[m.Ordinal], last))
		if c := chains[len(chains)-1]; c.Err == "" {
			heights[name] = c.Height
		}
	}
	p.st.Update(func(d *netstate.Data) { d.Pass.Heights = heights })
	tip, ok := status.BestTip(chains)
	if !ok {
		return chains
	}
	ctx, cancel := context.WithTimeout(ctx, p.r.Options.rpcTimeout())
	defer cancel()
	lookups := 0
	for i, c := range chains {
		if c.Err != "" || c.Hash == tip.Hash || lookups == maxPlaceLookups {
			continue
		}
		lookups++
		switch place, err := clients[tip.Name].BlockPlace(ctx, c.Hash); {
		case err != nil:
			// Unchecked: heights and work still tell most cases apart.
		case place == bitcoin.BlockOnBestChain:
			chains[i].Place = status.PlaceOnTipChain
		default:
			chains[i].Place = status.PlaceOffTipChain
		}
	}
	return chains
}

// nodeChain is one ready node's chain from its report; last holds the
// heights of the previous pass.
func nodeChain(name string, nr *peering.NodeReport, last map[string]int64) status.NodeChain {
	c := status.NodeChain{Name: name}
	switch {
	case nr == nil:
		c.Err = "not called"
		return c
	case nr.Chain.BestBlockHash == "":
		c.Err = "no chain answer"
		if nr.Err != nil {
			c.Err = rpcMessage(nr.Err)
		}
		return c
	}
	c.Height, c.Headers, c.Hash = nr.Chain.Blocks, nr.Chain.Headers, nr.Chain.BestBlockHash
	if w, ok := new(big.Int).SetString(nr.Chain.ChainWork, 16); ok {
		c.Work = w
	}
	c.InitialBlockDownload = nr.Chain.InitialBlockDownload != nil && *nr.Chain.InitialBlockDownload
	c.Difficulty = nr.Chain.Difficulty
	if before, ok := last[name]; ok && c.Height > before {
		c.Progressed = true
	}
	return c
}

// assessSync judges the chains, with the time the nodes first differed
// kept between passes.
func (p *pass) assessSync(chains []status.NodeChain) status.Sync {
	var since time.Time
	p.st.Update(func(d *netstate.Data) { since = d.Pass.SyncSince })
	s := status.AssessSync(chains, since, p.now)
	p.st.Update(func(d *netstate.Data) { d.Pass.SyncSince = s.Since })
	return s
}
