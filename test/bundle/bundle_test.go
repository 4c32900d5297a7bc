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

// Package bundle checks the generated OLM bundle the way an OperatorHub
// reviewer would: operator-framework's validators, the scorecard tests, the
// alm-examples against the real API server, and consistency with the rest
// of the repository.
package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
	interfaces "github.com/operator-framework/api/pkg/validation/interfaces"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/scheme"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/scorecard"
)

var root = envtest.RepoRoot()

func bundleDir() string { return filepath.Join(root, "bundle") }

func loadCSV(t *testing.T) *operatorsv1alpha1.ClusterServiceVersion {
	t.Helper()
	b, err := manifests.GetBundleFromDir(bundleDir())
	if err != nil {
		t.Fatalf("loading bundle: %v", err)
	}
	return b.CSV
}

// TestBundlePassesOperatorFrameworkValidators runs what
// "operator-sdk bundle validate ./bundle --select-optional
// suite=operatorframework" runs, and accepts no error and no warning.
func TestBundlePassesOperatorFrameworkValidators(t *testing.T) {
	b, err := manifests.GetBundleFromDir(bundleDir())
	if err != nil {
		t.Fatalf("loading bundle: %v", err)
	}
	validators := append(interfaces.Validators{}, validation.DefaultBundleValidators...)
	validators = append(validators,
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.AlphaDeprecatedAPIsValidator,
		validation.GoodPracticesValidator,
	)
	objs := append(b.ObjectsToValidate(), map[string]string{"k8s-version": "1.37"})
	findings := 0
	for _, result := range validators.Validate(objs...) {
		for _, e := range append(result.Errors, result.Warnings...) {
			findings++
			level := "warning"
			if e.Level == errors.LevelError {
				level = "error"
			}
			t.Errorf("%s: %s: %s", result.Name, level, e.Error())
		}
	}
	t.Logf("%d validators, %d findings", len(validators), findings)
}

func TestScorecardTestsPass(t *testing.T) {
	out, err := exec.Command(filepath.Join(root, "hack", "tools.sh"), "operator-sdk").Output()
	if err != nil {
		t.Fatalf("building scorecard-test: %v", err)
	}
	binary := filepath.Join(strings.TrimSpace(string(out)), "scorecard-test")
	for _, test := range scorecard.Tests {
		results, err := scorecard.Run(binary, bundleDir(), test)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) == 0 {
			t.Errorf("%s: no result", test)
		}
		for _, r := range results {
			t.Logf("%-26s %s", r.Name, r.State)
			if r.State != "pass" {
				t.Errorf("%s: %s: errors %v, suggestions %v, log %s", test, r.State, r.Errors, r.Suggestions, r.Log)
			}
		}
	}
}

func TestBundleDockerfileLabelsEqualAnnotations(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(bundleDir(), "metadata", "annotations.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var annotations struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.Unmarshal(raw, &annotations); err != nil {
		t.Fatal(err)
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "bundle.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^LABEL (\S+)=(\S+)$`).FindAllStringSubmatch(string(dockerfile), -1) {
		labels[m[1]] = m[2]
	}
	for k, v := range annotations.Annotations {
		if labels[k] != v {
			t.Errorf("annotation %s=%q, bundle.Dockerfile LABEL %q", k, v, labels[k])
		}
	}
	for k := range labels {
		if _, ok := annotations.Annotations[k]; !ok {
			t.Errorf("bundle.Dockerfile LABEL %s is not an annotation", k)
		}
	}
	for _, want := range []string{"operators.operatorframework.io.bundle.package.v1", "operators.operatorframework.io.bundle.channels.v1"} {
		if annotations.Annotations[want] == "" {
			t.Errorf("annotation %s missing", want)
		}
	}
	if annotations.Annotations["operators.operatorframework.io.bundle.package.v1"] != "bitcoin-network-operator" ||
		annotations.Annotations["operators.operatorframework.io.bundle.channels.v1"] != "stable" {
		t.Errorf("package/channel annotations %v, want bitcoin-network-operator/stable", annotations.Annotations)
	}
}

// TestALMExamplesAreAcceptedByTheAPIServer creates every alm-example with
// the bundle's CRD in a real API server, so the OpenAPI schema and the CEL
// rules (which the validators do not evaluate) both judge them.
func TestALMExamplesAreAcceptedByTheAPIServer(t *testing.T) {
	csv := loadCSV(t)
	var examples []map[string]any
	if err := json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples: %v", err)
	}
	impls := map[string]bool{}
	for _, e := range examples {
		spec, _ := e["spec"].(map[string]any)
		impl, _ := spec["implementation"].(string)
		impls[impl] = true
	}
	if !impls["bitcoind"] || !impls["btcd"] {
		t.Errorf("alm-examples cover implementations %v, want one network per implementation", impls)
	}
	assets, err := envtest.Assets()
	if err != nil {
		t.Fatal(err)
	}
	env := &ctrlenvtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths: []string{
			filepath.Join(bundleDir(), "manifests", "bitcoin.network-operator.dev_bitcoinnetworks.yaml"),
			filepath.Join(bundleDir(), "manifests", "bitcoin.network-operator.dev_bitcoinnetworkfaults.yaml"),
		},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	c, err := ctrlclient.New(cfg, ctrlclient.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range examples {
		u := &unstructured.Unstructured{Object: e}
		u.SetNamespace("default")
		if err := c.Create(context.Background(), u); err != nil {
			t.Errorf("alm-example %s rejected: %v", u.GetName(), err)
		}
	}
	// The check has teeth: a broken example is rejected by a CEL rule.
	var single map[string]any
	for _, e := range examples {
		if _, groups, _ := unstructured.NestedSlice(e, "spec", "groups"); !groups && e["kind"] == "BitcoinNetwork" {
			single = e
		}
	}
	bad := &unstructured.Unstructured{Object: single}
	bad.SetName("broken")
	bad.SetResourceVersion("")
	_ = unstructured.SetNestedField(bad.Object, map[string]any{"rpcpassword": "x"}, "spec", "config")
	if err := c.Create(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "config.rpcpassword is owned") {
		t.Errorf("an example with an owned config key: %v, want a CEL rejection", err)
	}
}

func TestBundleCRDIsTheGeneratedCRD(t *testing.T) {
	for _, crd := range []string{"bitcoinnetworks", "bitcoinnetworkfaults"} {
		t.Run(crd, func(t *testing.T) { sameCRD(t, "bitcoin.network-operator.dev_"+crd+".yaml") })
	}
}

func sameCRD(t *testing.T, file string) {
	a, err := os.ReadFile(filepath.Join(root, "config", "crd", "bases", file))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(bundleDir(), "manifests", file))
	if err != nil {
		t.Fatal(err)
	}
	var ca, cb map[string]any
	if err := yaml.Unmarshal(a, &ca); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(ca["spec"])
	jb, _ := json.Marshal(cb["spec"])
	if !bytes.Equal(ja, jb) {
		t.Error("bundle CRD spec differs from config/crd/bases: run make bundle")
	}
}

// TestCSVDescribesWhatTheManagerDoes checks the CSV against the operator's
// behaviour: install modes, images, environment and resources.
func TestCSVDescribesWhatTheManagerDoes(t *testing.T) {
	csv := loadCSV(t)
	modes := map[operatorsv1alpha1.InstallModeType]bool{}
	for _, m := range csv.Spec.InstallModes {
		modes[m.Type] = m.Supported
	}
	// The manager watches the namespaces OLM writes to olm.targetNamespaces:
	// all, one, or a list.
	for _, m := range []operatorsv1alpha1.InstallModeType{operatorsv1alpha1.InstallModeTypeOwnNamespace,
		operatorsv1alpha1.InstallModeTypeSingleNamespace, operatorsv1alpha1.InstallModeTypeMultiNamespace, operatorsv1alpha1.InstallModeTypeAllNamespaces} {
		if !modes[m] {
			t.Errorf("install mode %s not supported", m)
		}
	}
	deployments := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs
	if len(deployments) != 1 {
		t.Fatalf("%d deployments, want 1", len(deployments))
	}
	c := deployments[0].Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.Name == "WATCH_NAMESPACE" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
			e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['olm.targetNamespaces']") {
			t.Errorf("WATCH_NAMESPACE = %+v, want olm.targetNamespaces", e)
		}
	}
	related := map[string]bool{}
	for _, r := range csv.Spec.RelatedImages {
		related[r.Image] = true
	}
	for _, img := range []string{c.Image, env["RELATED_IMAGE_BITCOIND"], env["RELATED_IMAGE_BTCD"]} {
		if img == "" || !related[img] {
			t.Errorf("image %q is not among relatedImages %v", img, csv.Spec.RelatedImages)
		}
	}
	if csv.Annotations["containerImage"] != c.Image {
		t.Errorf("containerImage %q, deployment image %q", csv.Annotations["containerImage"], c.Image)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("manager resources %v", c.Resources)
	}
	if !slices.Contains(c.Args, "--leader-elect") {
		t.Errorf("manager args %v lack --leader-elect", c.Args)
	}
	if want := "bitcoin-network-operator.v" + csv.Spec.Version.String(); csv.Name != want {
		t.Errorf("CSV name %s, want %s", csv.Name, want)
	}
}

// The monitoring objects of config/prometheus are not in the bundle: a
// ServiceMonitor or PrometheusRule there fails the install on every cluster
// without the Prometheus operator's CRDs.
func TestBundleShipsNoMonitoringObjects(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(bundleDir(), "manifests"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(bundleDir(), "manifests", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"kind: ServiceMonitor", "kind: PrometheusRule", "kind: PodMonitor"} {
			if strings.Contains(string(raw), kind) {
				t.Errorf("bundle/manifests/%s holds a %s", e.Name(), strings.TrimPrefix(kind, "kind: "))
			}
		}
	}
}
