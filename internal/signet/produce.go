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

package signet

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
)

// Rules are the getblocktemplate rules of a signet node.
var Rules = []string{"segwit", "signet"}

// Node is what making a block needs from a signet node (bitcoin.Node has
// both).
type Node interface {
	BlockTemplate(ctx context.Context, rules []string, into any) error
	SubmitBlock(ctx context.Context, block string) error
}

// Produce makes one block on node's tip and submits it: a template, the
// block paying payout, signed for challenge with key at the current time,
// its proof of work (until ctx ends), submitblock. It returns the block's
// hash, or why the node did not take it.
func Produce(ctx context.Context, node Node, payout, challenge []byte, key *btcec.PrivateKey) (string, error) {
	var tmpl Template
	if err := node.BlockTemplate(ctx, Rules, &tmpl); err != nil {
		return "", fmt.Errorf("getblocktemplate: %w", err)
	}
	block, err := Block(tmpl, payout, challenge, key, time.Now().Unix(), nil)
	if err != nil {
		return "", err
	}
	if found, tries := Grind(ctx, &block.Header); !found {
		return "", fmt.Errorf("no proof of work at height %d after %d hashes: %w", tmpl.Height, tries, context.Cause(ctx))
	}
	raw, err := Serialize(block)
	if err != nil {
		return "", err
	}
	if err := node.SubmitBlock(ctx, raw); err != nil {
		return "", err
	}
	return block.BlockHash().String(), nil
}
