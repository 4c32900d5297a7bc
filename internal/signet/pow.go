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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

func unix(t int64) time.Time { return time.Unix(t, 0) }

// checkEvery is how many nonces Grind tries between looks at its context.
const checkEvery = 1 << 16

// Grind looks for a nonce that puts the header's hash at or under its
// target, from 0 up, until ctx ends. It reports whether it found one (and
// set it) and how many hashes it computed. The nonce is all it changes:
// the time is under the block's signature.
func Grind(ctx context.Context, h *wire.BlockHeader) (found bool, hashes uint64) {
	target := blockchain.CompactToBig(h.Bits)
	var buf bytes.Buffer
	_ = h.Serialize(&buf)
	raw := buf.Bytes() // 80 bytes; the nonce is the last 4
	// The first 64 bytes do not change with the nonce: hash them once and
	// clone that state for each try.
	first := sha256.New()
	first.Write(raw[:64])
	mid := first.(hash.Cloner)
	var sum, tail [32]byte
	hashBig := new(big.Int)
	// A target under 2^248 needs the hash's top byte zero: most tries end
	// there, without a big.Int.
	topByteZero := target.BitLen() <= 248
	for nonce := uint64(0); nonce <= 0xffffffff; nonce++ {
		if nonce%checkEvery == 0 && ctx.Err() != nil {
			return false, nonce
		}
		binary.LittleEndian.PutUint32(raw[76:], uint32(nonce))
		d, _ := mid.Clone()
		d.Write(raw[64:])
		d.Sum(tail[:0])
		sum = sha256.Sum256(tail[:])
		// The hash as a number is little-endian: compare from its top.
		if topByteZero && sum[31] != 0 {
			continue
		}
		hashBig.SetBytes(reverse(sum))
		if hashBig.Cmp(target) <= 0 {
			h.Nonce = uint32(nonce)
			return true, nonce + 1
		}
	}
	return false, 1 << 32
}

// MeetsTarget reports whether the header's hash is at or under its target.
func MeetsTarget(h *wire.BlockHeader) bool {
	hash := h.BlockHash()
	return blockchain.HashToBig((*chainhash.Hash)(&hash)).Cmp(blockchain.CompactToBig(h.Bits)) <= 0
}

func reverse(b [32]byte) []byte {
	out := make([]byte, 32)
	for i := range b {
		out[i] = b[31-i]
	}
	return out
}
