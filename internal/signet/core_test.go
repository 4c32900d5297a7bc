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

package signet_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/signet"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// produce makes, grinds and submits one block on node, signed with key.
func produce(t *testing.T, node bitcoin.Node, challenge []byte, key *btcec.PrivateKey) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := signet.Produce(ctx, node, []byte{txscript.OP_TRUE}, challenge, key)
	return err
}

// A real Bitcoin Core signet node with the challenge of a key takes the
// blocks this package makes and signs with that key, each checked against
// the challenge and the chain's work; a block signed with another key it
// refuses as a bad signet signature.
func TestBitcoinCoreAcceptsTheSignedBlocks(t *testing.T) {
	dir := realnode.RequireBitcoind(t)
	key, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x42}, 32))
	challenge, err := signet.Challenge(key.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	n := realnode.StartBitcoind(t, dir, realnode.BitcoindOptions{IP: "127.103.0.2", Chain: "signet",
		Config: []string{"signetchallenge=" + hex.EncodeToString(challenge)}})
	node := n.Client(10 * time.Second)
	deadline := time.Now().Add(time.Minute)
	for _, err := node.BlockCount(context.Background()); err != nil; _, err = node.BlockCount(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not finish warming up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range 3 {
		if err := produce(t, node, challenge, key); err != nil {
			t.Fatalf("block %d refused: %v", i+1, err)
		}
	}
	if h, err := node.BlockCount(context.Background()); err != nil || h != 3 {
		t.Fatalf("height %d (%v), want 3", h, err)
	}
	other, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{0x43}, 32))
	err = produce(t, node, challenge, other)
	if err == nil || !strings.Contains(err.Error(), "bad-signet-blksig") {
		t.Errorf("a block signed with another key: %v, want bad-signet-blksig", err)
	}
	if h, _ := node.BlockCount(context.Background()); h != 3 {
		t.Errorf("height %d after the refused block, want 3", h)
	}
}
