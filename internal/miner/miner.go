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

// Package miner makes the regtest key the operator mines to, with the
// btcsuite libraries (btcec for the key, btcutil for WIF and addresses),
// and checks addresses users give.
package miner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// Key is a mining key in the forms a user needs to spend what it earns.
type Key struct {
	// WIF is the private key in wallet import format (regtest, compressed).
	WIF string
	// Address is its address of the Key's type.
	Address string
	// Descriptor is wpkh(WIF) or pkh(WIF) with its checksum, ready for a
	// descriptor wallet's importdescriptors.
	Descriptor string
}

// AddressType is the kind of address a Key pays to.
type AddressType string

const (
	// P2WPKH (bech32, bcrt1q…) for Bitcoin Core, where segwit is active
	// on regtest from the first block.
	P2WPKH AddressType = "wpkh"
	// P2PKH (legacy, m… or n…) for btcd, whose regtest activates segwit
	// only after 432 blocks: a segwit coinbase would not be spendable
	// before that.
	P2PKH AddressType = "pkh"
)

// NewKey generates a key for regtest.
func NewKey(t AddressType) (Key, error) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		return Key{}, fmt.Errorf("generating key: %w", err)
	}
	return keyOf(priv, t)
}

// KeyFromWIF rebuilds a Key from its private key.
func KeyFromWIF(wif string, t AddressType) (Key, error) {
	w, err := btcutil.DecodeWIF(wif)
	if err != nil {
		return Key{}, fmt.Errorf("decoding private key: %w", err)
	}
	if !w.IsForNet(&chaincfg.RegressionNetParams) {
		return Key{}, errors.New("the private key is not a regtest key")
	}
	return keyOf(w.PrivKey, t)
}

func keyOf(priv *btcec.PrivateKey, t AddressType) (Key, error) {
	return KeyOn(priv, t, &chaincfg.RegressionNetParams)
}

// KeyOn gives a private key's forms on a chain: its WIF, its address of
// type t and the descriptor.
func KeyOn(priv *btcec.PrivateKey, t AddressType, params *chaincfg.Params) (Key, error) {
	wif, err := btcutil.NewWIF(priv, params, true)
	if err != nil {
		return Key{}, fmt.Errorf("encoding key: %w", err)
	}
	hash := btcutil.Hash160(priv.PubKey().SerializeCompressed())
	var addr btcutil.Address
	switch t {
	case P2WPKH:
		addr, err = btcutil.NewAddressWitnessPubKeyHash(hash, params)
	case P2PKH:
		addr, err = btcutil.NewAddressPubKeyHash(hash, params)
	default:
		err = fmt.Errorf("unknown address type %q", t)
	}
	if err != nil {
		return Key{}, fmt.Errorf("making address: %w", err)
	}
	desc := string(t) + "(" + wif.String() + ")"
	sum, err := DescriptorChecksum(desc)
	if err != nil {
		return Key{}, err
	}
	return Key{WIF: wif.String(), Address: addr.EncodeAddress(), Descriptor: desc + "#" + sum}, nil
}

// CheckAddress returns an error naming the problem when address is not a
// regtest address.
func CheckAddress(address string) error {
	a, err := btcutil.DecodeAddress(address, &chaincfg.RegressionNetParams)
	if err != nil {
		return fmt.Errorf("%q is not a bitcoin address: %v", address, err)
	}
	if !a.IsForNet(&chaincfg.RegressionNetParams) {
		return fmt.Errorf("%q is not a regtest address (regtest addresses start with bcrt1, m, n or 2)", address)
	}
	return nil
}

// Output descriptor checksums (BIP 380): a BCH code over the descriptor's
// characters, as Bitcoin Core computes it in getdescriptorinfo.
const (
	descInputCharset    = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
	descChecksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
)

func descPolymod(c uint64, val uint64) uint64 {
	c0 := c >> 35
	c = ((c & 0x7ffffffff) << 5) ^ val
	for i, g := range []uint64{0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd} {
		if c0>>i&1 == 1 {
			c ^= g
		}
	}
	return c
}

// DescriptorChecksum returns the 8-character checksum of a descriptor
// (without its '#' part).
func DescriptorChecksum(desc string) (string, error) {
	c, cls, clsCount := uint64(1), uint64(0), 0
	for _, ch := range desc {
		pos := strings.IndexRune(descInputCharset, ch)
		if pos < 0 {
			return "", fmt.Errorf("descriptor: invalid character %q", ch)
		}
		c = descPolymod(c, uint64(pos&31))
		cls = cls*3 + uint64(pos>>5)
		if clsCount++; clsCount == 3 {
			c, cls, clsCount = descPolymod(c, cls), 0, 0
		}
	}
	if clsCount > 0 {
		c = descPolymod(c, cls)
	}
	for range 8 {
		c = descPolymod(c, 0)
	}
	c ^= 1
	out := make([]byte, 8)
	for j := range out {
		out[j] = descChecksumCharset[(c>>(5*(7-j)))&31]
	}
	return string(out), nil
}
