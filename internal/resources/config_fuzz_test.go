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
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// renderedOptions are the key=value lines the user's spec.config became.
func renderedOptions(conf string) []string {
	_, opts, found := strings.Cut(conf, "# spec.config\n")
	if !found {
		return nil
	}
	return strings.Split(strings.TrimSuffix(opts, "\n"), "\n")
}

// FuzzNodeConfig renders arbitrary spec.config entries for both
// implementations: the renderer must never panic, never write an option the
// operator owns (or its negation), never let a value add a line or a
// comment, and CheckConfig must name every entry it leaves out.
func FuzzNodeConfig(f *testing.F) {
	f.Add("txindex", "1", "nolisten", "1")
	f.Add("rpcbind", "0.0.0.0", "uacomment", "a#b")
	f.Add("norpcauth", "1", "x", "1\nrpcallowip=0.0.0.0/0")
	f.Add("maxconnections", "40", "Port", "1")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		for _, impl := range []v1alpha1.Implementation{v1alpha1.ImplementationBitcoind, v1alpha1.ImplementationBtcd} {
			n := testNetwork(impl, v1alpha1.ChainRegtest)
			n.Spec.Config = map[string]v1alpha1.ConfigValue{k1: v1alpha1.ConfigValue(v1), k2: v1alpha1.ConfigValue(v2)}
			conf := NodeConfig(n, Groups(n)[0])
			rendered := 0
			for _, line := range renderedOptions(conf) {
				key, value, ok := strings.Cut(line, "=")
				if !ok || optionProblem(key, value) != "" {
					t.Fatalf("rendered %q from %q=%q, %q=%q:\n%s", line, k1, v1, k2, v2, conf)
				}
				rendered++
			}
			if (CheckConfig(n) == nil) != (rendered == len(n.Spec.Config)) && !strings.Contains(errString(CheckConfig(n)), "maxconnections") {
				t.Fatalf("CheckConfig %v, but %d of %d entries rendered", CheckConfig(n), rendered, len(n.Spec.Config))
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The CEL rules on every node configuration (spec.config and each group's,
// one type) and the Go lists must name the same options.
func TestCELRulesOwnTheOptionsTheRendererOwns(t *testing.T) {
	crd, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "bitcoin.network-operator.dev_bitcoinnetworks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lists := regexp.MustCompile(`rule: self\.all\(k, !\(k in \[([^\]]*)\]`).FindAllSubmatch(crd, -1)
	if len(lists) != 4 {
		t.Fatalf("found %d owned-option rules in the CRD, want 4 (credentials and owned options, on spec.config and on spec.groups[].config)", len(lists))
	}
	for i, l := range lists {
		var names []string
		for _, q := range strings.Split(string(l[1]), ",") {
			names = append(names, strings.Trim(strings.TrimSpace(q), "'"))
		}
		want := [][]string{CredentialOptions, OwnedOptions}[i%2]
		if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want))) {
			t.Errorf("CEL rule %d owns %v, the renderer %v", i, names, want)
		}
	}
}

// A network the API server accepted before a rule existed still never gets
// the option, and is told why.
func TestOwnedOptionsAreNeitherRenderedNorAccepted(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	n.Spec.Config = map[string]v1alpha1.ConfigValue{"nolisten": "1", "txindex": "1"}
	if got := renderedOptions(NodeConfig(n, Groups(n)[0])); !slices.Equal(got, []string{"txindex=1"}) {
		t.Errorf("rendered %v, want only txindex=1", got)
	}
	if err := CheckConfig(n); err == nil || !strings.Contains(err.Error(), "spec.config.nolisten negates listen") {
		t.Errorf("CheckConfig = %v, want it to name spec.config.nolisten", err)
	}
}
