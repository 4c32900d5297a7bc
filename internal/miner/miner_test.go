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

package miner_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
)

// The examples of BIP 380.
func TestDescriptorChecksumMatchesBIP380(t *testing.T) {
	for desc, want := range map[string]string{
		"raw(deadbeef)": "89f8spxm",
		"addr(mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j)": "02wpgw69",
	} {
		got, err := miner.DescriptorChecksum(desc)
		if err != nil || got != want {
			t.Errorf("checksum of %s = %q, %v; want %q", desc, got, err, want)
		}
	}
	if _, err := miner.DescriptorChecksum("wpkh(é)"); err == nil {
		t.Error("a character outside the descriptor charset was accepted")
	}
}

func TestNewKeyIsARegtestKeyItsAddressAndDescriptor(t *testing.T) {
	for typ, prefixes := range map[miner.AddressType][]string{miner.P2WPKH: {"bcrt1q"}, miner.P2PKH: {"m", "n"}} {
		k, err := miner.NewKey(typ)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k.Address, p) }) || miner.CheckAddress(k.Address) != nil {
			t.Errorf("%s: address %q is not a regtest address of that type", typ, k.Address)
		}
		if !strings.HasPrefix(k.Descriptor, string(typ)+"("+k.WIF+")#") {
			t.Errorf("descriptor %q does not hold the key", k.Descriptor)
		}
		again, err := miner.KeyFromWIF(k.WIF, typ)
		if err != nil || again != k {
			t.Errorf("key rebuilt from its WIF = %+v, %v; want %+v", again, err, k)
		}
		other, _ := miner.NewKey(typ)
		if other.WIF == k.WIF {
			t.Error("two keys are the same")
		}
	}
	if _, err := miner.NewKey("tr"); err == nil {
		t.Error("an unknown address type was accepted")
	}
}

func TestCheckAddressRejectsOtherChainsAndGarbage(t *testing.T) {
	for _, a := range []string{
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", // mainnet
		"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", // testnet
		"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",         // mainnet P2PKH
		"bcrt1qnotanaddress",
		"",
	} {
		if err := miner.CheckAddress(a); err == nil {
			t.Errorf("%q accepted as a regtest address", a)
		}
	}
	for _, a := range []string{"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "mkmZxiEcEd8ZqjQWVZuC6so5dFMKEFpN2j"} {
		if err := miner.CheckAddress(a); err != nil {
			t.Errorf("%q rejected: %v", a, err)
		}
	}
}
