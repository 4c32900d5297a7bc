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

package resources

import (
	"strings"
	"testing"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// A regtest Core node gets the defaults a test chain needs, each replaced
// (not repeated) by the user's own value; other chains get none of them.
func TestRegtestCoreDefaultsGiveWayToTheUsersValues(t *testing.T) {
	lines := func(conf string) map[string][]string {
		out := map[string][]string{}
		for _, l := range strings.Split(conf, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
				out[k] = append(out[k], v)
			}
		}
		return out
	}
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	got := lines(NodeConfig(n, Groups(n)[0]))
	for k, want := range map[string]string{"connect": "0", "maxtipage": "2147483647", "fallbackfee": RegtestFallbackFee} {
		if len(got[k]) != 1 || got[k][0] != want {
			t.Errorf("regtest %s = %v, want [%s]", k, got[k], want)
		}
	}
	n.Spec.Config = v1alpha1.NodeConfig{"fallbackfee": "0.0001", "maxtipage": "600"}
	got = lines(NodeConfig(n, Groups(n)[0]))
	if len(got["fallbackfee"]) != 1 || got["fallbackfee"][0] != "0.0001" || len(got["maxtipage"]) != 1 || got["maxtipage"][0] != "600" {
		t.Errorf("with the user's values: fallbackfee %v, maxtipage %v; want only theirs", got["fallbackfee"], got["maxtipage"])
	}
	signet := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainSignet)
	got = lines(NodeConfig(signet, Groups(signet)[0]))
	for _, k := range []string{"connect", "maxtipage", "fallbackfee"} {
		if len(got[k]) != 0 {
			t.Errorf("signet %s = %v, want none", k, got[k])
		}
	}
}
