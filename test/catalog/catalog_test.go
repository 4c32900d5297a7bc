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

// Package catalog checks the file-based catalog in catalog/: opm accepts
// it, its channel is a real upgrade path through every released bundle,
// and it holds the current bundle as generated.
package catalog

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

const pkg = "bitcoin-network-operator"

var root = envtest.RepoRoot()

func opm(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(root, "hack", "tools.sh"), "opm").Output()
	if err != nil {
		t.Fatalf("building opm: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "opm")
}

// documents decodes every YAML document in the package directory.
func documents(t *testing.T) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "catalog", pkg, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := envtest.DecodeYAML(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, u := range objs {
			docs = append(docs, u.Object)
		}
	}
	return docs
}

func TestOpmValidatesTheCatalog(t *testing.T) {
	out, err := exec.Command(opm(t), "validate", filepath.Join(root, "catalog")).CombinedOutput()
	if err != nil {
		t.Fatalf("opm validate catalog: %v\n%s", err, out)
	}
}

func TestStableChannelUpgradesThroughEveryReleasedBundle(t *testing.T) {
	bundles := map[string]bool{}
	var channel map[string]any
	var defaultChannel string
	for _, d := range documents(t) {
		switch d["schema"] {
		case "olm.bundle":
			bundles[d["name"].(string)] = true
			if img, _ := d["image"].(string); img != "" {
				t.Errorf("bundle %s refers to image %q: the catalog keeps bundles inline", d["name"], img)
			}
		case "olm.channel":
			channel = d
		case "olm.package":
			defaultChannel, _ = d["defaultChannel"].(string)
		}
	}
	if channel == nil || channel["name"] != "stable" || defaultChannel != "stable" {
		t.Fatalf("channel %v, default %q: want stable", channel, defaultChannel)
	}
	entries, _ := channel["entries"].([]any)
	if len(entries) < 2 {
		t.Fatalf("%d channel entries: want at least one upgrade edge", len(entries))
	}
	previous := ""
	for i, e := range entries {
		entry := e.(map[string]any)
		name := entry["name"].(string)
		if !bundles[name] {
			t.Errorf("channel entry %s has no bundle in the catalog", name)
		}
		replaces, _ := entry["replaces"].(string)
		if i > 0 && replaces != previous {
			t.Errorf("%s replaces %q, want the previous release %q", name, replaces, previous)
		}
		if i > 0 && entry["skipRange"] == nil {
			t.Errorf("%s has no skipRange", name)
		}
		previous = name
	}
	if len(bundles) != len(entries) {
		t.Errorf("%d bundles, %d channel entries", len(bundles), len(entries))
	}
}

// TestCatalogHoldsTheCurrentBundle: the newest catalog entry is exactly
// what opm renders from bundle/ now ("make catalog" was run).
func TestCatalogHoldsTheCurrentBundle(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^VERSION \?= (\S+)$`).FindSubmatch(makefile)[1]
	want, err := exec.Command(opm(t), "render", filepath.Join(root, "bundle"), "--output", "yaml").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "catalog", pkg, "bundle-v"+string(version)+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("catalog/%s/bundle-v%s.yaml differs from opm render ./bundle: run make catalog", pkg, version)
	}
}

func TestCatalogDockerfileServesTheCatalog(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "catalog.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{"FROM quay.io/operator-framework/opm:v1.59.0", "ADD catalog /configs", "operators.operatorframework.io.index.configs.v1=/configs"} {
		if !strings.Contains(s, want) {
			t.Errorf("catalog.Dockerfile lacks %q", want)
		}
	}
}
