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

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/signet"
)

// mineBlocks mines count blocks on node: generatetoaddress (or btcd's
// generate) on regtest, blocks the operator signs and grinds itself on a
// private signet.
func (p *pass) mineBlocks(ctx context.Context, node bitcoin.Node, count int) ([]string, error) {
	if p.access.Signet == nil {
		return node.Mine(ctx, count, p.access.MiningAddress)
	}
	return produceSignet(ctx, node, *p.access.Signet, count)
}

// produceSignet makes count signet blocks on node, one on the other. It
// stops at the first failure or when ctx ends, with an error, and returns
// the hashes of the blocks the node took. Each block is on the tip the
// node had when it was made, so the operator never makes two blocks at one
// height; a block the node refuses changes nothing.
func produceSignet(ctx context.Context, node bitcoin.Node, key signet.Key, count int) ([]string, error) {
	var hashes []string
	for len(hashes) < count {
		hash, err := signet.Produce(ctx, node, key.Payout, key.Challenge, key.Priv)
		if err != nil {
			return hashes, err
		}
		hashes = append(hashes, hash)
	}
	return hashes, nil
}
