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
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
)

// Key is a signet's signing key in the forms its users need: it signs the
// blocks (the challenge is its 1-of-1 multisig) and the blocks pay to its
// P2WPKH address, so the same key spends the coinbases.
type Key struct {
	Priv      *btcec.PrivateKey
	WIF       string
	PublicKey string // compressed, hex
	Challenge []byte
	// Address (tb1q…) and Payout (its script) are where blocks pay.
	Address string
	Payout  []byte
	// Descriptor is wpkh(WIF) with its checksum, for importdescriptors.
	Descriptor string
}

// NewKey generates a signet key.
func NewKey() (Key, error) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		return Key{}, fmt.Errorf("generating key: %w", err)
	}
	return keyOf(priv)
}

// KeyFromWIF rebuilds a Key from its private key; with a challenge, it
// must be the key's 1-of-1 multisig (the only challenge the operator
// signs for).
func KeyFromWIF(wif string, challenge []byte) (Key, error) {
	w, err := btcutil.DecodeWIF(wif)
	if err != nil {
		return Key{}, fmt.Errorf("decoding private key: %w", err)
	}
	if !w.IsForNet(&chaincfg.SigNetParams) {
		return Key{}, errors.New("the private key is not a signet/testnet key (WIF starting with c)")
	}
	k, err := keyOf(w.PrivKey)
	if err != nil {
		return Key{}, err
	}
	if challenge != nil && !bytes.Equal(challenge, k.Challenge) {
		return Key{}, fmt.Errorf("the challenge %x is not the 1-of-1 multisig of this key (%x)", challenge, k.Challenge)
	}
	return k, nil
}

func keyOf(priv *btcec.PrivateKey) (Key, error) {
	k, err := miner.KeyOn(priv, miner.P2WPKH, &chaincfg.SigNetParams)
	if err != nil {
		return Key{}, err
	}
	challenge, err := Challenge(priv.PubKey())
	if err != nil {
		return Key{}, err
	}
	addr, err := btcutil.DecodeAddress(k.Address, &chaincfg.SigNetParams)
	if err != nil {
		return Key{}, err
	}
	payout, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return Key{}, err
	}
	return Key{Priv: priv, WIF: k.WIF, PublicKey: hex.EncodeToString(priv.PubKey().SerializeCompressed()),
		Challenge: challenge, Address: k.Address, Payout: payout, Descriptor: k.Descriptor}, nil
}

// CheckChallenge reports why a challenge cannot be a script: bytes that do
// not parse (a push longer than what follows it), or nothing at all.
func CheckChallenge(challenge []byte) error {
	if len(challenge) == 0 {
		return errors.New("the challenge is empty")
	}
	tok := txscript.MakeScriptTokenizer(0, challenge)
	for tok.Next() {
	}
	if err := tok.Err(); err != nil {
		return fmt.Errorf("the challenge is not a script: %w", err)
	}
	return nil
}
