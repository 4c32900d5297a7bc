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
// nothing, and a count of packages would not show it. Last come the failed
// tests again, each with its messages but not its progress lines (those
// with " ==> "), so that the tail of a long log still says what failed.
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
	r, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	skipped := r.skipped
	if len(skipped) > 0 {
		fmt.Printf("\n%d test(s) skipped:\n%s", len(skipped), strings.Join(skipped, ""))
	}
	if len(r.failures) > 0 {
		fmt.Printf("\n%d test(s) failed:\n%s", len(r.failures), strings.Join(r.failures, ""))
	}
	switch {
	case r.failed:
		os.Exit(1)
	case *noSkips && len(skipped) > 0:
		fmt.Println("tests skipped where every test must run (-no-skips)")
		os.Exit(1)
	}
}

// result is what a run came to.
type result struct {
	skipped  []string // one line each, with the reason
	failures []string // each failed test with its messages
	failed   bool     // a test or a package failed
}

// report prints the packages' results and failed tests' output to w, and
// returns what the run came to.
func report(r io.Reader, w io.Writer) (result, error) {
	var (
		skipped, failures []string
		failed            bool
	)
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
			failures = append(failures, failure(e.Package, e.Test, outputs[key]))
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
	return result{skipped: skipped, failures: failures, failed: failed}, s.Err()
}

// Bounds of one failed test's summary: a test that dumps logs when it
// fails is summed up, not repeated.
const (
	failureLines    = 12
	failureLineSize = 400
)

// failure sums up a failed test: its name, then its messages without the
// progress lines, each cut to a size.
func failure(pkg, test string, out []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %s\n", pkg, test)
	n := 0
	for _, o := range out {
		line := strings.TrimSpace(o)
		if line == "" || strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- ") || strings.Contains(line, " ==> ") {
			continue
		}
		if n == failureLines {
			b.WriteString("    …\n")
			break
		}
		if len(line) > failureLineSize {
			line = line[:failureLineSize] + " …"
		}
		fmt.Fprintf(&b, "    %s\n", line)
		n++
	}
	return b.String()
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
