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

package catalog

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// copyTree copies the repository's files (tracked, or new and not
// ignored) into dir: a tree as a release is cut from.
func copyTree(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, raw, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// The steps of docs/releasing.md, in its order, cut a release in a copy of
// the tree: the new bundle replaces the current version, and the catalog
// validates with it.
func TestAScratchReleaseFollowsTheDocumentedSteps(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs", "releasing.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The order the page gives: channel entry, make bundle, make catalog.
	steps := []string{"channel-stable.yaml", "`make bundle`", "`make catalog`"}
	last := -1
	for _, s := range steps {
		i := strings.Index(string(doc), s)
		if i < last || i < 0 {
			t.Fatalf("docs/releasing.md: %q is missing or out of the order %q", s, steps)
		}
		last = i
	}

	dir := t.TempDir()
	copyTree(t, dir)
	makefile, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	current := regexp.MustCompile(`(?m)^VERSION \?= (\S+)$`).FindSubmatch(makefile)
	if current == nil {
		t.Fatal("no VERSION in the Makefile")
	}
	prev, next := string(current[1]), string(current[1])+"-scratch.1"
	// Step 1: the versions and the date.
	m := string(makefile)
	m = regexp.MustCompile(`(?m)^VERSION \?= .*$`).ReplaceAllString(m, "VERSION ?= "+next)
	m = regexp.MustCompile(`(?m)^PREVIOUS_VERSION \?= .*$`).ReplaceAllString(m, "PREVIOUS_VERSION ?= "+prev)
	m = regexp.MustCompile(`(?m)^CREATED_AT \?= .*$`).ReplaceAllString(m, "CREATED_AT ?= 2027-01-01T00:00:00Z")
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	// Step 2: the channel entry.
	channel := filepath.Join(dir, "catalog", pkg, "channel-stable.yaml")
	f, err := os.OpenFile(channel, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("- name: " + pkg + ".v" + next + "\n  replaces: " + pkg + ".v" + prev + "\n  skipRange: <" + next + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	// Steps 3 and 4.
	for _, target := range []string{"bundle", "catalog"} {
		cmd := exec.Command("make", "--no-print-directory", target)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %s in the scratch tree: %v\n%s", target, err, out)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, "bundle", "manifests", pkg+".clusterserviceversion.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: " + pkg + ".v" + next, "replaces: " + pkg + ".v" + prev, "olm.skipRange: <" + next, `createdAt: "2027-01-01T00:00:00Z"`} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("the scratch release's CSV lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog", pkg, "bundle-v"+next+".yaml")); err != nil {
		t.Errorf("make catalog rendered no bundle-v%s.yaml: %v", next, err)
	}
}

// releasedAt are the commits the released versions were built from
// (test/e2e's releasedFrom lists those before the newest, whose operator
// the end-to-end test builds from this tree while it is the newest).
var releasedAt = map[string]string{
	"0.1.0": "21088667103668f3f3d6b963f011361a11099ca3",
	"0.2.0": "345ae4935ab880b25d3d9c66dda74742a023cc0b",
	"0.3.0": "068868367f7f029dff27b31b1e2c39eb636eb189",
	"0.4.0": "68ba2e3ec79b341d51c10a936d6c122a97c5017a",
}

// A released version's catalog entry is what it was released with: a
// change to the bundle after a release belongs to the next version
// (docs/releasing.md), never to the released one.
func TestReleasedCatalogEntriesNeverChange(t *testing.T) {
	for version, commit := range releasedAt {
		name := filepath.Join("catalog", pkg, "bundle-v"+version+".yaml")
		released, err := exec.Command("git", "-C", root, "show", commit+":"+name).Output()
		if err != nil {
			t.Errorf("%s at %s: %v", name, commit[:12], err)
			continue
		}
		now, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v (a released version stays in the catalog)", name, err)
			continue
		}
		if string(now) != string(released) {
			t.Errorf("%s differs from what %s was released with (commit %s): set VERSION to the next release and run make bundle catalog", name, version, commit[:12])
		}
	}
}
