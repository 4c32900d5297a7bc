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

// Package scorecard runs operator-sdk's scorecard tests (the
// scorecard-test command of the scorecard-test image) against a bundle
// directory, without a cluster or a container engine. scorecard-test reads
// the bundle from /bundle; each run gets a private mount namespace in which
// the bundle directory is bind-mounted there (as root, or in a user
// namespace where /bundle exists).
package scorecard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Tests are the scorecard tests a bundle for OperatorHub must pass, as in
// config/scorecard.
var Tests = []string{
	"basic-check-spec",
	"olm-bundle-validation",
	"olm-crds-have-validation",
	"olm-crds-have-resources",
	"olm-spec-descriptors",
	"olm-status-descriptors",
}

// Result is one test's result (scorecard v1alpha3 TestResult).
type Result struct {
	Name        string   `json:"name"`
	State       string   `json:"state"`
	Log         string   `json:"log,omitempty"`
	Errors      []string `json:"errors,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
}

// Run runs one scorecard test against bundleDir.
func Run(binary, bundleDir, test string) ([]Result, error) {
	abs, err := filepath.Abs(bundleDir)
	if err != nil {
		return nil, err
	}
	args := []string{"--mount", "--propagation", "private"}
	if os.Geteuid() != 0 {
		// Without root, a user namespace grants the mount (and the
		// /bundle directory must already exist).
		args = append([]string{"--user", "--map-root-user"}, args...)
	}
	args = append(args, "sh", "-c", `mkdir -p /bundle 2>/dev/null; mount --bind "$1" /bundle && exec "$2" "$3"`, "scorecard", abs, binary, test)
	cmd := exec.Command("unshare", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var status struct {
		Results []Result `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &status); err != nil {
		return nil, fmt.Errorf("scorecard-test %s: %v; output: %s %s", test, runErr, stdout.String(), stderr.String())
	}
	return status.Results, nil
}
