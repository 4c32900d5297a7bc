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

package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// The release workflow passes actionlint (syntax, expressions, action
// inputs), and builds every image the project describes: the operator,
// each images/* directory with the tag the Makefile's defaults name, the
// bundle and the catalog.
func TestTheReleaseWorkflowBuildsEveryImage(t *testing.T) {
	root := envtest.RepoRoot()
	path := filepath.Join(root, ".github", "workflows", "release.yaml")
	out, err := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "tools.sh"), "actionlint").Output()
	if err != nil {
		t.Fatalf("hack/tools.sh actionlint: %v", err)
	}
	if lint, err := exec.Command(strings.TrimSpace(string(out)), path).CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, lint)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct {
					Include []map[string]string `json:"include"`
				} `json:"matrix"`
			} `json:"strategy"`
			Steps []struct {
				With map[string]any `json:"with"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	built := map[string]string{} // Dockerfile → image:tag
	for _, job := range wf.Jobs {
		for _, m := range job.Strategy.Matrix.Include {
			built[m["file"]] = m["image"] + ":" + m["tag"]
		}
		for _, step := range job.Steps {
			if f, ok := step.With["file"].(string); ok && !strings.Contains(f, "${{") {
				built[f] = "built"
			}
		}
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	tagOf := func(v string) string {
		value := makeVar(t, string(makefile), v)
		return value[strings.LastIndex(value, "/")+1:]
	}
	want := map[string]string{
		"Dockerfile": "", "bundle.Dockerfile": "", "catalog.Dockerfile": "",
		"images/bitcoind/Dockerfile": tagOf("RELATED_IMAGE_BITCOIND"), "images/bitcoind-30.0/Dockerfile": tagOf("IMAGE_BITCOIND_30"),
		"images/knots/Dockerfile": tagOf("RELATED_IMAGE_KNOTS"), "images/btcd/Dockerfile": tagOf("RELATED_IMAGE_BTCD"),
	}
	dirs, err := filepath.Glob(filepath.Join(root, "images", "*", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		rel, _ := filepath.Rel(root, d)
		if _, ok := want[rel]; !ok {
			t.Errorf("%s is built by no release step the test knows", rel)
		}
	}
	for file, tag := range want {
		got, ok := built[file]
		switch {
		case !ok:
			t.Errorf("the release workflow does not build %s", file)
		case tag != "" && got != tag:
			t.Errorf("the release workflow builds %s as %s, the Makefile's default is %s", file, got, tag)
		}
	}
}

// Every node image runs its node as a numeric non-root user, from a
// pinned base; Knots is checked against its release's signed checksums.
func TestNodeImagesAreNonRootAndVerified(t *testing.T) {
	root := envtest.RepoRoot()
	for dir, entrypoint := range map[string]string{"bitcoind": "bitcoind", "bitcoind-30.0": "bitcoind", "knots": "bitcoind", "btcd": "btcd"} {
		ins := parseDockerfile(t, filepath.Join(root, "images", dir, "Dockerfile"))
		user, ep, base := finalStage(t, ins)
		if !numericNonRoot(user) || ep != `["`+entrypoint+`"]` || !pinnedImage.MatchString(base) || strings.HasSuffix(base, ":latest") {
			t.Errorf("images/%s: USER %q ENTRYPOINT %s FROM %s; want a numeric non-root user running %s on a pinned base", dir, user, ep, base, entrypoint)
		}
	}
	knots := parseDockerfile(t, filepath.Join(root, "images", "knots", "Dockerfile"))
	var version, run string
	for _, in := range knots {
		if in.cmd == "ARG" && strings.HasPrefix(in.args, "KNOTS_VERSION=") {
			version = strings.TrimPrefix(in.args, "KNOTS_VERSION=")
		}
		if in.cmd == "RUN" {
			run += in.args + "\n"
		}
	}
	makefile, _ := os.ReadFile(filepath.Join(root, "Makefile"))
	if !strings.HasSuffix(makeVar(t, string(makefile), "RELATED_IMAGE_KNOTS"), ":"+version) {
		t.Errorf("images/knots packages %q, the default Knots image is tagged otherwise", version)
	}
	for _, step := range []string{"gpg --batch --status-fd 1 --verify SHA256SUMS.asc SHA256SUMS", "VALIDSIG ${KNOTS_SIGNER}", "sha256sum -c"} {
		if !strings.Contains(run, step) {
			t.Errorf("images/knots does not verify the release: no %q", step)
		}
	}
	if i, j := strings.Index(run, "sha256sum -c"), strings.Index(run, "tar -xzf"); i < 0 || j < i {
		t.Error("images/knots unpacks the archive before checking it")
	}
	if st := stages(knots); len(st) != 2 || !slices.ContainsFunc(st[1], func(in instruction) bool { return in.cmd == "COPY" && strings.Contains(in.args, "--from=verify") }) {
		t.Error("images/knots does not copy the verified binaries out of its verifying stage")
	}
}
