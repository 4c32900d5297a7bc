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

// Package docs checks the README and docs/: every command block says
// which test runs it or that it needs a real cluster, every relative link
// leads to a file and heading that exist, and the README stays short.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

var root = envtest.RepoRoot()

// pages are the README and every page of docs/, relative to the root.
func pages(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	names, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(names, filepath.Join(root, "README.md")) {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, name)
		out[rel] = string(raw)
	}
	return out
}

// A shell block either runs in a test (the comment before it names the
// test's file, which must exist) or says it needs something the tests do
// not have.
func TestEveryCommandBlockIsRunByATestOrMarked(t *testing.T) {
	marker := regexp.MustCompile(`^<!-- (run by (\S+?)[:\s]|needs )`)
	for page, text := range pages(t) {
		lines := strings.Split(text, "\n")
		for i, line := range lines {
			if line != "```sh" && line != "```bash" && line != "```console" {
				continue
			}
			prev := ""
			for j := i - 1; j >= 0 && prev == ""; j-- {
				prev = strings.TrimSpace(lines[j])
			}
			m := marker.FindStringSubmatch(prev)
			switch {
			case m == nil:
				t.Errorf("%s:%d: a command block with no <!-- run by <test file> --> or <!-- needs … --> before it", page, i+1)
			case m[2] != "":
				if _, err := os.Stat(filepath.Join(root, m[2])); err != nil {
					t.Errorf("%s:%d: the block is run by %s, which does not exist", page, i+1, m[2])
				} else if test, _ := os.ReadFile(filepath.Join(root, m[2])); !strings.Contains(string(test), strings.TrimSuffix(m[0][len("<!-- "):], m[0][len(m[0])-1:])) {
					t.Errorf("%s:%d: %s does not look for the marker %q", page, i+1, m[2], m[0])
				}
			}
		}
	}
}

// slug is GitHub's anchor for a heading.
func slug(heading string) string {
	s := strings.ToLower(strings.TrimSpace(heading))
	s = regexp.MustCompile(`[^\p{L}\p{N}\- ]`).ReplaceAllString(s, "")
	return strings.ReplaceAll(s, " ", "-")
}

func TestRelativeLinksLeadSomewhere(t *testing.T) {
	all := pages(t)
	anchors := map[string]map[string]bool{}
	for page, text := range all {
		anchors[page] = map[string]bool{}
		inCode := false
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "```") {
				inCode = !inCode
			}
			if !inCode && strings.HasPrefix(line, "#") {
				anchors[page][slug(strings.TrimLeft(line, "#"))] = true
			}
		}
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for page, text := range all {
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := page
			if file != "" {
				dest = filepath.Clean(filepath.Join(filepath.Dir(page), file))
				if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
					t.Errorf("%s: link %s: no such file", page, target)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") && !anchors[dest][anchor] {
				t.Errorf("%s: link %s: %s has no heading #%s", page, target, dest, anchor)
			}
		}
	}
}

// The README is the first screen and the way in, not the manual.
func TestTheREADMEStaysShort(t *testing.T) {
	if n := strings.Count(pages(t)["README.md"], "\n"); n >= 250 {
		t.Errorf("README.md has %d lines; keep it under 250 and move detail to docs/", n)
	}
}
