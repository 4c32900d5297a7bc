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

// Command scorecard runs the six scorecard tests against a bundle directory
// and prints a results table; it exits non-zero unless every test passes.
//
//	go run ./hack/scorecard SCORECARD_TEST_BINARY BUNDLE_DIR
package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/scorecard"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: scorecard SCORECARD_TEST_BINARY BUNDLE_DIR")
		os.Exit(2)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TEST\tSTATE\tERRORS / SUGGESTIONS")
	failed := false
	for _, test := range scorecard.Tests {
		results, err := scorecard.Run(os.Args[1], os.Args[2], test)
		if err != nil {
			fmt.Fprintf(w, "%s\terror\t%v\n", test, err)
			failed = true
			continue
		}
		for _, r := range results {
			if r.State != "pass" {
				failed = true
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.State, strings.Join(append(r.Errors, r.Suggestions...), "; "))
		}
	}
	_ = w.Flush()
	if failed {
		os.Exit(1)
	}
}
