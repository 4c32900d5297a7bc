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
	"encoding"
	"encoding/binary"
	"math/big"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

func unix(t int64) time.Time { return time.Unix(t, 0) }

// checkEvery is how many nonces Grind tries between looks at its context.
const checkEvery = 1 << 16

// Grind looks for a nonce that puts the header's hash at or under its
// target, on every CPU the process may use, until ctx ends. It reports
// whether it found one (and set it) and how many hashes it computed. The
// nonce is all it changes: the time is under the block's signature.
func Grind(ctx context.Context, h *wire.BlockHeader) (found bool, hashes uint64) {
	target := blockchain.CompactToBig(h.Bits)
	var buf bytes.Buffer
	_ = h.Serialize(&buf)
	workers := uint64(max(1, min(runtime.GOMAXPROCS(0), maxWorkers)))
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		wg     sync.WaitGroup
		total  atomic.Uint64
		winner atomic.Int64
	)
	winner.Store(-1)
	for w := range workers {
		wg.Go(func() {
			nonce, tries, ok := grindFrom(ctx, bytes.Clone(buf.Bytes()), target, w, workers)
			total.Add(tries)
			if ok && winner.CompareAndSwap(-1, int64(nonce)) {
				stop()
			}
		})
	}
	wg.Wait()
	if n := winner.Load(); n >= 0 {
		h.Nonce = uint32(n)
		return true, total.Load()
	}
	return false, total.Load()
}

// maxWorkers bounds Grind's goroutines: an operator shares its node.
const maxWorkers = 4

// grindFrom tries the nonces first, first+step, … of an 80-byte header.
// The first 64 bytes do not change with the nonce: their SHA-256 state is
// computed once and restored for each try (two compressions a try, not
// three).
func grindFrom(ctx context.Context, raw []byte, target *big.Int, first, step uint64) (nonce, tries uint64, found bool) {
	head := sha256.New()
	head.Write(raw[:64])
	mid, err := head.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return 0, 0, false
	}
	d := sha256.New()
	restore := d.(encoding.BinaryUnmarshaler)
	var once [32]byte
	hashBig := new(big.Int)
	// A target under 2^248 needs the hash's top byte zero: most tries end
	// there, without a big.Int.
	topByteZero := target.BitLen() <= 248
	for nonce = first; nonce <= 0xffffffff; nonce += step {
		if tries%checkEvery == 0 && ctx.Err() != nil {
			return 0, tries, false
		}
		tries++
		binary.LittleEndian.PutUint32(raw[76:], uint32(nonce))
		if err := restore.UnmarshalBinary(mid); err != nil {
			return 0, tries, false
		}
		d.Write(raw[64:])
		d.Sum(once[:0])
		sum := sha256.Sum256(once[:])
		// The hash as a number is little-endian: its top byte is last.
		if topByteZero && sum[31] != 0 {
			continue
		}
		if hashBig.SetBytes(reverse(sum)).Cmp(target) <= 0 {
			return nonce, tries, true
		}
	}
	return 0, tries, false
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
