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

// Package prometheus checks config/prometheus with Prometheus's own rule
// and PromQL parsers. It is a module of its own: the prometheus module's
// dependencies stay out of the operator's.
package prometheus

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const dir = "../../config/prometheus/"

// served are the metric names the operator serves (metrics.txt, kept
// current by a test in controllers), with a histogram's series.
func served(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(dir + "metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, n := range strings.Fields(string(raw)) {
		names[n] = true
		if strings.HasSuffix(n, "_seconds") {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[n+s] = true
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("metrics.txt lists no metric")
	}
	return names
}

// checkMetrics parses expr and reports every metric it selects that the
// operator does not serve, and every label matcher on a label those
// metrics do not have.
func checkMetrics(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	selectors := parser.ExtractSelectors(e)
	if len(selectors) == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
	for _, matchers := range selectors {
		for _, m := range matchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual && !names[m.Value] {
				t.Errorf("%s: metric %s is not served by the operator", where, m.Value)
			}
			if m.Name != labels.MetricName && !slices.Contains([]string{"namespace", "network", "node", "state", "type", "status", "code", "method", "le"}, m.Name) {
				t.Errorf("%s: label %s is on no metric of the operator", where, m.Name)
			}
		}
	}
}

// The PrometheusRule's groups are valid Prometheus rules (rulefmt, as
// promtool checks them), and their expressions use served metrics only.
func TestAlertRules(t *testing.T) {
	raw, err := os.ReadFile(dir + "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Groups []any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &rule); err != nil || rule.Kind != "PrometheusRule" {
		t.Fatalf("rules.yaml: kind %q, %v", rule.Kind, err)
	}
	groups, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	parsed, errs := rulefmt.Parse(groups, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
	for _, e := range errs {
		t.Error(e)
	}
	if parsed == nil {
		t.FailNow()
	}
	names := served(t)
	var alerts []string
	for _, g := range parsed.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			checkMetrics(t, r.Alert, r.Expr, names)
			if r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("%s: needs a summary and a severity", r.Alert)
			}
		}
	}
	for _, want := range []string{"BitcoinNetworkNotReady", "BitcoinNodeIsolated", "BitcoinNetworkOutOfSync", "BitcoinNetworkRepairsEveryPass"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s among %v", want, alerts)
		}
	}
}

// labelValues is Grafana's template query function, not PromQL.
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*\w+\)$`)

// Every query of the dashboard parses and uses served metrics.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dir + "dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	names := served(t)
	// Grafana's variables, as a query would see them.
	vars := strings.NewReplacer(`"$namespace"`, `".*"`, `"$network"`, `".*"`)
	queries := 0
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			queries++
			checkMetrics(t, p.Title, vars.Replace(target.Expr), names)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)["query"].(string)
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
			continue
		}
		checkMetrics(t, "variable "+v.Name, vars.Replace(m[1]), names)
	}
	if queries < 8 {
		t.Errorf("%d queries in the dashboard", queries)
	}
}
