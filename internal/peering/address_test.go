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

package peering

import "testing"

func TestAnAddressBelongsHoweverItIsWritten(t *testing.T) {
	set := newAddressSet([]string{"127.0.0.2:18444", "[fd00::1]:18444", "not an address"})
	for address, want := range map[string]bool{
		"127.0.0.2:18444":          true,
		"[::ffff:127.0.0.2]:18444": true, // IPv4-mapped, as a dual-stack node may report it
		"[fd00:0::1]:18444":        true,
		"[FD00::1]:18444":          true,
		"127.0.0.2:18445":          false, // another port is another node
		"127.0.0.3:18444":          false,
		"node-0:18444":             false, // only addresses, never names
		"":                         false,
		"not an address":           false,
	} {
		if got := set.has(address); got != want {
			t.Errorf("has(%q) = %v, want %v", address, got, want)
		}
	}
}
