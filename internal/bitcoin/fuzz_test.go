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

package bitcoin

import (
	"testing"

	"github.com/btcsuite/btcd/btcjson"
)

// FuzzDecodeResponse feeds arbitrary answers to the decoder of every result
// shape the operator reads: it must never panic, and an answer it accepts
// decodes into bounded lists ("make fuzz" runs it for a fixed time).
func FuzzDecodeResponse(f *testing.F) {
	for _, seed := range []string{
		`{"result":[{"addednode":"127.0.0.2:18444","connected":true,"addresses":[{"address":"127.0.0.2:18444","connected":"outbound"}]}],"error":null,"id":1}`,
		`{"result":null,"error":{"code":-28,"message":"Loading block index…"},"id":1}`,
		`{"result":[{"addr":"127.0.0.3:18444","inbound":false}],"error":null,"id":1}`,
		`{"result":{"chain":"regtest","blocks":5,"headers":5,"bestblockhash":"00"},"error":null,"id":1}`,
		`{"result":12,"error":null,"id":1}`, `<html>`, ``, `{"result":[`, `{"error":{"code":"x"}}`,
	} {
		f.Add(200, []byte(seed))
		f.Add(500, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		var added []btcjson.GetAddedNodeInfoResult
		if decodeResponse(status, raw, &added) == nil {
			if list, err := addedNodes(added); err == nil && len(list) > maxAddedNodes {
				t.Fatalf("%d added nodes accepted", len(list))
			}
		}
		var peers []Peer
		_ = decodeResponse(status, raw, &peers)
		var chain ChainInfo
		_ = decodeResponse(status, raw, &chain)
		var height int64
		_ = decodeResponse(status, raw, &height)
		_ = decodeResponse(status, raw, nil)
	})
}
