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

// Command testreport reads `go test -json` on stdin and prints what plain
// `go test` prints (each package's result, and the output of the tests that
// failed), then every test that skipped, with its reason. With -no-skips
// (CI) a skipped test fails the run: a test that did not run proves
// nothing, and a count of packages would not show it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	noSkips := flag.Bool("no-skips", false, "exit non-zero when a test skipped")
	flag.Parse()
	skipped, failed, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if len(skipped) > 0 {
		fmt.Printf("\n%d test(s) skipped:\n%s", len(skipped), strings.Join(skipped, ""))
	}
	switch {
	case failed:
		os.Exit(1)
	case *noSkips && len(skipped) > 0:
		fmt.Println("tests skipped where every test must run (-no-skips)")
		os.Exit(1)
	}
}

// report prints the packages' results and failed tests' output to w, and
// returns the skipped tests (one line each, with the reason) and whether
// anything failed.
func report(r io.Reader, w io.Writer) (skipped []string, failed bool, err error) {
	outputs := map[string][]string{} // by package and test
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		line := s.Bytes()
		var e event
		if json.Unmarshal(line, &e) != nil || e.Action == "" {
			// Not an event (a build error, printed by go test as text).
			fmt.Fprintln(w, string(line))
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Test == "" && e.Action == "output":
			// The package's own output: its result line, and what the
			// test binary printed outside any test.
			if out := e.Output; !strings.HasPrefix(out, "PASS\n") && !strings.HasPrefix(out, "=== ") {
				fmt.Fprint(w, out)
			}
		case e.Test == "" && e.Action == "fail":
			failed = true
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "fail":
			failed = true
			fmt.Fprint(w, strings.Join(outputs[key], ""))
			delete(outputs, key)
		case e.Test == "":
			// A package's own pass, or skip: it has no test files.
		case e.Action == "skip":
			skipped = append(skipped, fmt.Sprintf("  %s %s: %s\n", e.Package, e.Test, skipReason(outputs[key])))
			delete(outputs, key)
		case e.Action == "pass":
			delete(outputs, key)
		}
	}
	slices.Sort(skipped)
	return skipped, failed, s.Err()
}

// skipReason is the message a skipped test gave (its last log lines).
func skipReason(out []string) string {
	var lines []string
	for _, o := range out {
		if t := strings.TrimSpace(o); t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- SKIP") {
			lines = append(lines, t)
		}
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return lines[len(lines)-1]
}
