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
	"encoding/hex"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// A private signet's nodes get the challenge the generated key gives, no
// seeds and only their planned peers; its policy lets them reach nothing
// outside; the operator mines it at the defaults. The public signet keeps
// none of that.
func TestAPrivateSignetIsConfiguredFromItsKey(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainSignet)
	n.Spec.Signet = &v1alpha1.SignetSpec{}
	secret, err := NewSignetSecret(n)
	if err != nil {
		t.Fatal(err)
	}
	key, err := SignetKey(n, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(secret.Data[SecretKeySignetChallenge]); got != hex.EncodeToString(key.Challenge) || key.Address != string(secret.Data[SecretKeySignetAddress]) {
		t.Fatalf("Secret challenge %s, address %s; key %x, %s", got, secret.Data[SecretKeySignetAddress], key.Challenge, key.Address)
	}
	rendered := WithSignetChallenge(n, key.Challenge)
	if n.Spec.Signet.Challenge != "" {
		t.Error("WithSignetChallenge changed the network it was given")
	}
	conf := NodeConfig(rendered, Groups(rendered)[0])
	for _, line := range []string{"signetchallenge=" + hex.EncodeToString(key.Challenge), "dnsseed=0", "fixedseeds=0", "connect=0"} {
		if !strings.Contains(conf, "\n"+line+"\n") {
			t.Errorf("configuration lacks %q:\n%s", line, conf)
		}
	}
	if np := DesiredNetworkPolicy(rendered, "operators"); len(np.Spec.Egress) != 2 {
		t.Errorf("%d egress rules for a private signet, want DNS and its own nodes only", len(np.Spec.Egress))
	}
	spec := MiningSpec(n)
	if spec == nil || spec.InitialBlocks != DefaultSignetInitialBlocks || spec.BlockInterval.Duration != DefaultSignetBlockInterval {
		t.Errorf("mining %+v, want the signet defaults", spec)
	}
	n.Spec.Signet.BlockInterval = &metav1.Duration{Duration: time.Minute}
	if MiningSpec(n).BlockInterval.Duration != time.Minute {
		t.Error("spec.signet.blockInterval not used")
	}

	// A key that does not make the challenge is refused.
	n.Spec.Signet.Challenge = "51"
	if _, err := SignetKey(n, secret); err == nil || !strings.Contains(err.Error(), "not the 1-of-1 multisig of this key") {
		t.Errorf("a key for another challenge: %v", err)
	}

	public := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainSignet)
	if conf := NodeConfig(public, Groups(public)[0]); strings.Contains(conf, "signetchallenge") || MiningSpec(public) != nil {
		t.Errorf("the public signet got a challenge or mining:\n%s", conf)
	}
}
