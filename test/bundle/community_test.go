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

package bundle

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// make bundle-community lays the bundle out as the community-operators
// repositories want it (operators/<package>/<version>/manifests and
// metadata, a ci.yaml beside the versions), validated where it lands.
func TestBundleCommunityWritesTheCommunityOperatorsLayout(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	version := string(regexp.MustCompile(`(?m)^VERSION \?= (\S+)$`).FindSubmatch(makefile)[1])
	dir := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "bundle-community", "COMMUNITY_DIR="+dir)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "All validation tests have completed successfully") {
		t.Fatalf("make bundle-community: %v\n%s", err, out)
	}
	pkgDir := filepath.Join(dir, "bitcoin-network-operator")
	ci, err := os.ReadFile(filepath.Join(pkgDir, "ci.yaml"))
	if err != nil || !strings.Contains(string(ci), "updateGraph: replaces-mode") {
		t.Errorf("ci.yaml: %v\n%s", err, ci)
	}
	for _, name := range []string{
		"manifests/bitcoin-network-operator.clusterserviceversion.yaml",
		"manifests/bitcoin.network-operator.dev_bitcoinnetworks.yaml",
		"manifests/bitcoin.network-operator.dev_bitcoinnetworkfaults.yaml",
		"metadata/annotations.yaml",
	} {
		got, err := os.ReadFile(filepath.Join(pkgDir, version, name))
		if err != nil {
			t.Errorf("%s/%s: %v", version, name, err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(root, "bundle", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s differs from bundle/%s", version, name, name)
		}
	}
}
