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

// Package signet makes the blocks of a private signet (BIP 325): a block
// from a node's getblocktemplate, a coinbase paying the miner, the signet
// solution signed with the challenge's key, and the proof of work at the
// chain's target. Pure functions but Grind, which takes time; btcd's wire,
// txscript and blockchain packages do the serialising and hashing, so the
// rules written here are only BIP 325's own.
package signet

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// header marks the signet solution among the pushes of the coinbase's
// witness commitment output (BIP 325's SIGNET_HEADER).
var header = []byte{0xec, 0xc7, 0xda, 0xa2}

// Challenge is the 1-of-1 challenge of a key: OP_1 <pubkey> OP_1
// OP_CHECKMULTISIG, the form of the public signet's challenge.
func Challenge(pub *btcec.PublicKey) ([]byte, error) {
	pk, err := btcutil.NewAddressPubKey(pub.SerializeCompressed(), &chaincfg.SigNetParams)
	if err != nil {
		return nil, err
	}
	return txscript.MultiSigScript([]*btcutil.AddressPubKey{pk}, 1)
}

// Template is what the block needs from getblocktemplate (with the rules
// segwit and signet).
type Template struct {
	Version           int32  `json:"version"`
	PreviousBlockHash string `json:"previousblockhash"`
	Transactions      []struct {
		Data string `json:"data"`
	} `json:"transactions"`
	CoinbaseValue            int64  `json:"coinbasevalue"`
	Bits                     string `json:"bits"`
	CurTime                  int64  `json:"curtime"`
	MinTime                  int64  `json:"mintime"`
	Height                   int64  `json:"height"`
	DefaultWitnessCommitment string `json:"default_witness_commitment"`
	SignetChallenge          string `json:"signet_challenge"`
}

// Block builds a block of the template paying the coinbase to payout,
// signed for challenge with key, at time t (at least the template's
// mintime). Its nonce is 0: Grind finds one. The extra bytes go into the
// coinbase's script after the height, so that two blocks at one height
// and second differ.
func Block(tmpl Template, payout []byte, challenge []byte, key *btcec.PrivateKey, t int64, extra []byte) (*wire.MsgBlock, error) {
	if tmpl.SignetChallenge != "" && tmpl.SignetChallenge != hex.EncodeToString(challenge) {
		return nil, fmt.Errorf("the node's signet challenge is %s, not the network's %x", tmpl.SignetChallenge, challenge)
	}
	prev, err := chainhash.NewHashFromStr(tmpl.PreviousBlockHash)
	if err != nil {
		return nil, fmt.Errorf("template previousblockhash: %w", err)
	}
	var bits uint32
	if _, err := fmt.Sscanf(tmpl.Bits, "%08x", &bits); err != nil {
		return nil, fmt.Errorf("template bits %q: %w", tmpl.Bits, err)
	}
	commitment, err := hex.DecodeString(tmpl.DefaultWitnessCommitment)
	if err != nil || len(commitment) == 0 {
		return nil, fmt.Errorf("template default_witness_commitment %q: want a script", tmpl.DefaultWitnessCommitment)
	}
	coinbase, err := coinbaseTx(tmpl, payout, commitment, extra)
	if err != nil {
		return nil, err
	}
	txs := []*wire.MsgTx{coinbase}
	for i, t := range tmpl.Transactions {
		raw, err := hex.DecodeString(t.Data)
		if err != nil {
			return nil, fmt.Errorf("template transaction %d: %w", i, err)
		}
		tx := &wire.MsgTx{}
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("template transaction %d: %w", i, err)
		}
		txs = append(txs, tx)
	}
	block := &wire.MsgBlock{Header: wire.BlockHeader{
		Version: tmpl.Version, PrevBlock: *prev, Bits: bits,
		Timestamp: unix(max(t, tmpl.MinTime)),
	}, Transactions: txs}

	// Sign the block with the signet header alone in the commitment (BIP
	// 325's signet merkle root leaves the solution out, not the header;
	// Core's FetchAndClearCommitmentSection), then put the solution in.
	out := coinbase.TxOut[len(coinbase.TxOut)-1]
	if out.PkScript, err = txscript.NewScriptBuilder().AddOps(commitment).AddData(header).Script(); err != nil {
		return nil, err
	}
	solution, err := sign(block, challenge, key)
	if err != nil {
		return nil, err
	}
	if out.PkScript, err = txscript.NewScriptBuilder().AddOps(commitment).AddData(append(bytes.Clone(header), solution...)).Script(); err != nil {
		return nil, err
	}
	block.Header.MerkleRoot = merkleRoot(block.Transactions)
	return block, nil
}

// coinbaseTx is the block's coinbase: the height (BIP 34) and extra in its
// script, the reward to payout, the template's witness commitment last,
// and the witness reserved value (32 zero bytes) the commitment is of.
func coinbaseTx(tmpl Template, payout, commitment, extra []byte) (*wire.MsgTx, error) {
	script, err := txscript.NewScriptBuilder().AddInt64(tmpl.Height).AddData(extra).Script()
	if err != nil {
		return nil, err
	}
	if len(script) < 2 || len(script) > 100 {
		return nil, fmt.Errorf("coinbase script of %d bytes: want 2–100", len(script))
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  script, Sequence: wire.MaxTxInSequenceNum,
		Witness: wire.TxWitness{make([]byte, 32)},
	})
	tx.AddTxOut(wire.NewTxOut(tmpl.CoinbaseValue, payout))
	tx.AddTxOut(wire.NewTxOut(0, commitment))
	return tx, nil
}

// sign returns the signet solution of a block whose coinbase holds the
// signet header without a solution: the serialised scriptSig and witness of to_sign, spending to_spend's
// challenge output (BIP 325).
func sign(block *wire.MsgBlock, challenge []byte, key *btcec.PrivateKey) ([]byte, error) {
	toSign, err := toSign(block, challenge)
	if err != nil {
		return nil, err
	}
	sig, err := txscript.RawTxInSignature(toSign, 0, challenge, txscript.SigHashAll, key)
	if err != nil {
		return nil, err
	}
	// A 1-of-1 bare multisig: OP_0 (CHECKMULTISIG's extra pop) and the
	// signature; no witness.
	scriptSig, err := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(sig).Script()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := wire.WriteVarBytes(&buf, 0, scriptSig); err != nil {
		return nil, err
	}
	if err := wire.WriteVarInt(&buf, 0, 0); err != nil { // the witness stack: empty
		return nil, err
	}
	return buf.Bytes(), nil
}

// toSign builds BIP 325's two virtual transactions for a block whose
// coinbase carries the signet header without a solution: to_spend commits to the block (version,
// previous block, merkle root, time) and pays to the challenge; to_sign,
// returned, spends it to OP_RETURN.
func toSign(block *wire.MsgBlock, challenge []byte) (*wire.MsgTx, error) {
	var data bytes.Buffer
	_ = binary.Write(&data, binary.LittleEndian, block.Header.Version)
	data.Write(block.Header.PrevBlock[:])
	root := merkleRoot(block.Transactions)
	data.Write(root[:])
	_ = binary.Write(&data, binary.LittleEndian, uint32(block.Header.Timestamp.Unix()))
	scriptSig, err := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(data.Bytes()).Script()
	if err != nil {
		return nil, err
	}
	toSpend := wire.NewMsgTx(0)
	toSpend.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: scriptSig, Sequence: 0})
	toSpend.AddTxOut(wire.NewTxOut(0, challenge))
	tx := wire.NewMsgTx(0)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: toSpend.TxHash(), Index: 0}, Sequence: 0})
	tx.AddTxOut(wire.NewTxOut(0, []byte{txscript.OP_RETURN}))
	return tx, nil
}

func merkleRoot(txs []*wire.MsgTx) chainhash.Hash {
	wrapped := make([]*btcutil.Tx, len(txs))
	for i, tx := range txs {
		wrapped[i] = btcutil.NewTx(tx)
	}
	return blockchain.CalcMerkleRoot(wrapped, false)
}

// Solution is the signet solution a block carries, or an error when it
// carries none: the data after the header in the last push of the
// coinbase's witness commitment output.
func Solution(block *wire.MsgBlock) ([]byte, error) {
	if len(block.Transactions) == 0 {
		return nil, errors.New("no coinbase")
	}
	outs := block.Transactions[0].TxOut
	for i := len(outs) - 1; i >= 0; i-- {
		pushes, err := txscript.PushedData(outs[i].PkScript)
		if err != nil {
			continue
		}
		for _, p := range pushes {
			if bytes.HasPrefix(p, header) {
				return p[len(header):], nil
			}
		}
	}
	return nil, errors.New("no signet solution in the coinbase")
}

// Serialize is the block as submitblock takes it: hex, with witnesses.
func Serialize(block *wire.MsgBlock) (string, error) {
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf.Bytes()), nil
}
