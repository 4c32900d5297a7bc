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
	"encoding/hex"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

func testKey(t testing.TB, seed byte) *btcec.PrivateKey {
	key, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{seed}, 32))
	return key
}

// template is a getblocktemplate answer at height 1 of a signet whose
// genesis is the public signet's, with no transactions.
func template(t testing.TB, challenge []byte, bits string) Template {
	// The commitment of a block whose only transaction is the coinbase:
	// OP_RETURN, then aa21a9ed and the double SHA-256 of a zero witness
	// root and the zero reserved value.
	commit := "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9"
	return Template{
		Version: 0x20000000, PreviousBlockHash: chaincfg.SigNetParams.GenesisHash.String(), CoinbaseValue: 50_0000_0000,
		Bits: bits, CurTime: 1_800_000_000, MinTime: 1_598_918_401, Height: 1,
		DefaultWitnessCommitment: commit, SignetChallenge: hex.EncodeToString(challenge),
	}
}

func TestChallengeIsOneOfOneMultisig(t *testing.T) {
	key := testKey(t, 7)
	c, err := Challenge(key.PubKey())
	if err != nil {
		t.Fatal(err)
	}
	want := "5121" + hex.EncodeToString(key.PubKey().SerializeCompressed()) + "51ae"
	if hex.EncodeToString(c) != want {
		t.Errorf("challenge %x, want %s", c, want)
	}
}

// The solution a block carries satisfies the challenge for the block
// without it, as btcd's script engine judges it; another key's does not.
func TestTheBlocksSolutionSatisfiesTheChallenge(t *testing.T) {
	key := testKey(t, 7)
	challenge, _ := Challenge(key.PubKey())
	payout := []byte{txscript.OP_0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	block, err := Block(template(t, challenge, "1e0377ae"), payout, challenge, key, 1_800_000_000, []byte("bno"))
	if err != nil {
		t.Fatal(err)
	}
	if verify(t, block, challenge) != nil {
		t.Fatalf("the block's own solution fails its challenge: %v", verify(t, block, challenge))
	}
	if block.Header.Timestamp.Unix() != 1_800_000_000 || block.Header.Bits != 0x1e0377ae || len(block.Transactions) != 1 {
		t.Errorf("header %+v, %d transactions", block.Header, len(block.Transactions))
	}
	if cb := block.Transactions[0]; cb.TxOut[0].Value != 50_0000_0000 || !bytes.Equal(cb.TxOut[0].PkScript, payout) {
		t.Errorf("coinbase pays %d to %x", cb.TxOut[0].Value, cb.TxOut[0].PkScript)
	}

	// Signed with another key: the challenge refuses it.
	other, _ := Block(template(t, challenge, "1e0377ae"), payout, challenge, testKey(t, 8), 1_800_000_000, []byte("bno"))
	if verify(t, other, challenge) == nil {
		t.Error("a block signed with another key satisfies the challenge")
	}
	// A block whose time changed after signing no longer matches.
	block.Header.Timestamp = time.Unix(1_800_000_001, 0)
	if verify(t, block, challenge) == nil {
		t.Error("the solution still holds after the block's time changed")
	}
	// A template of another signet is refused.
	if _, err := Block(template(t, []byte{0x51}, "1e0377ae"), payout, challenge, key, 0, nil); err == nil {
		t.Error("a template of another challenge was accepted")
	}
}

// verify checks a block's solution as BIP 325 does: the solution taken
// out of the coinbase, to_sign rebuilt for the block without it, and the
// challenge run on it.
func verify(t *testing.T, block *wire.MsgBlock, challenge []byte) error {
	t.Helper()
	solution, err := Solution(block)
	if err != nil {
		return err
	}
	stripped := block.Copy()
	cb := stripped.Transactions[0]
	last := cb.TxOut[len(cb.TxOut)-1]
	pushes, _ := txscript.PushedData(last.PkScript)
	last.PkScript, _ = txscript.NewScriptBuilder().AddOp(txscript.OP_RETURN).AddData(pushes[0]).AddData(header).Script()
	tx, err := toSign(stripped, challenge)
	if err != nil {
		return err
	}
	r := bytes.NewReader(solution)
	scriptSig, err := wire.ReadVarBytes(r, 0, 10_000, "scriptSig")
	if err != nil {
		return err
	}
	if n, err := wire.ReadVarInt(r, 0); err != nil || n != 0 || r.Len() != 0 {
		t.Fatalf("witness count %d (%v), %d bytes left; want an empty witness and nothing after it", n, err, r.Len())
	}
	tx.TxIn[0].SignatureScript = scriptSig
	fetcher := txscript.NewCannedPrevOutputFetcher(challenge, 0)
	vm, err := txscript.NewEngine(challenge, tx, 0, txscript.StandardVerifyFlags, nil, txscript.NewTxSigHashes(tx, fetcher), 0, fetcher)
	if err != nil {
		return err
	}
	return vm.Execute()
}

func TestGrindFindsANonceUnderTheTarget(t *testing.T) {
	key := testKey(t, 7)
	challenge, _ := Challenge(key.PubKey())
	block, err := Block(template(t, challenge, "1f0fffff"), []byte{txscript.OP_TRUE}, challenge, key, 1_800_000_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	found, hashes := Grind(context.Background(), &block.Header)
	if !found || !MeetsTarget(&block.Header) || hashes == 0 {
		t.Fatalf("found %v after %d hashes, nonce %d meets the target: %v", found, hashes, block.Header.Nonce, MeetsTarget(&block.Header))
	}
	// An impossible target: Grind gives up when its context ends.
	block.Header.Bits = 0x03000001
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if found, _ := Grind(ctx, &block.Header); found {
		t.Error("found a nonce for a target of 1")
	}
}

// BenchmarkGrindAtTheSignetPowLimit measures one block's proof of work at
// the target every signet starts at (bits 1e0377ae).
func BenchmarkGrindAtTheSignetPowLimit(b *testing.B) {
	key := testKey(b, 7)
	challenge, _ := Challenge(key.PubKey())
	var total uint64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		block, err := Block(template(b, challenge, "1e0377ae"), []byte{txscript.OP_TRUE}, challenge, key, 1_800_000_000+int64(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		found, hashes := Grind(context.Background(), &block.Header)
		if !found {
			b.Fatal("no nonce")
		}
		total += hashes
	}
	b.ReportMetric(float64(total)/float64(b.N), "hashes/block")
	b.ReportMetric(float64(total)/time.Since(start).Seconds()/1e6, "Mhash/s")
}

func TestCheckChallengeRefusesWhatIsNoScript(t *testing.T) {
	good, _ := Challenge(testKey(t, 7).PubKey())
	if err := CheckChallenge(good); err != nil {
		t.Errorf("a 1-of-1 multisig: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x4c}, {0x21, 0x02, 0x03}} { // nothing; PUSHDATA1 without its length; a 33-byte push of 2
		if err := CheckChallenge(bad); err == nil {
			t.Errorf("%x accepted as a script", bad)
		}
	}
}
