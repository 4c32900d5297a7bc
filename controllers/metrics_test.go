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

package controllers

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The alert rules and dashboard are checked against this list
// (test/prometheus): it must be the metrics the operator serves.
func TestMetricsListIsCurrent(t *testing.T) {
	raw, err := os.ReadFile("../config/prometheus/metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	listed := strings.Fields(string(raw))
	if served := MetricNames(); !slices.Equal(listed, served) || len(served) < 9 {
		t.Errorf("config/prometheus/metrics.txt lists %v, the operator serves %v: run make manifests", listed, served)
	}
}
