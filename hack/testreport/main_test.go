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

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The report of a real `go test -json` run: passing tests are quiet, a
// failing test's output is shown, a skipped test is listed with its reason.
func TestTheReportOfARealRun(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":       "module example.com/r\n\ngo 1.26\n",
		"notests/n.go": "package notests\n",
		"r_test.go": `package r
import "testing"
func TestQuiet(t *testing.T) { t.Log("not shown") }
func TestBroken(t *testing.T) { t.Log("==> a step"); t.Error("shown: it failed") }
func TestNeedsAMachine(t *testing.T) { t.Skip("no machine here") }
`,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	raw, _ := cmd.Output() // it fails: TestBroken
	var out bytes.Buffer
	r, err := report(bytes.NewReader(raw), &out)
	if err != nil {
		t.Fatal(err)
	}
	skipped, failed := r.skipped, r.failed
	if !failed || !strings.Contains(out.String(), "shown: it failed") || strings.Contains(out.String(), "not shown") ||
		!strings.Contains(out.String(), "FAIL\texample.com/r") {
		t.Errorf("failed %v, report:\n%s", failed, out.String())
	}
	// The summary names the failed test with its message, not its steps.
	if len(r.failures) != 1 || !strings.Contains(r.failures[0], "example.com/r TestBroken\n") ||
		!strings.Contains(r.failures[0], "shown: it failed") || strings.Contains(r.failures[0], "a step") {
		t.Errorf("failures %q, want TestBroken with its message and without its steps", r.failures)
	}
	// A package without tests is no skipped test.
	if len(skipped) != 1 || !strings.Contains(skipped[0], "TestNeedsAMachine: ") || !strings.Contains(skipped[0], "no machine here") {
		t.Errorf("skipped %q, want TestNeedsAMachine with its reason", skipped)
	}
}
