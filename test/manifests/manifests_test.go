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

// Package manifests checks the kustomize manifests in config/ against a
// real API server: what "make deploy" and the samples would create.
package manifests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

var k8s client.Client

func TestMain(m *testing.M) { os.Exit(envtest.Run(m, &k8s)) }

// kustomizeBuild renders a kustomization with the pinned kustomize.
func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	root := envtest.RepoRoot()
	tool, err := exec.Command(filepath.Join(root, "hack", "tools.sh"), "kustomize").Output()
	if err != nil {
		t.Fatalf("building kustomize: %v", err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(strings.TrimSpace(string(tool)), "build", filepath.Join(root, dir))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.String())
	}
	objs, err := envtest.DecodeYAML(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func apply(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	err := k8s.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("manifests-test"), client.ForceOwnership)
	if err != nil {
		t.Errorf("%s %s rejected by the API server: %v", u.GetKind(), u.GetName(), err)
	}
}

func TestDefaultDeploymentIsAcceptedAndRestricted(t *testing.T) {
	objs := kustomizeBuild(t, "config/default")
	kinds := map[string]int{}
	var deployment *appsv1.Deployment
	for _, u := range objs {
		kinds[u.GetKind()]++
		if u.GetKind() == "Deployment" {
			deployment = &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, deployment); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Namespace first, then everything else.
	for _, u := range objs {
		if u.GetKind() == "Namespace" {
			apply(t, u)
		}
	}
	for _, u := range objs {
		if u.GetKind() != "Namespace" {
			apply(t, u)
		}
	}
	for kind, want := range map[string]int{"Namespace": 1, "CustomResourceDefinition": 2, "Deployment": 1, "ServiceAccount": 1, "Service": 1, "ClusterRoleBinding": 1} {
		if kinds[kind] != want {
			t.Errorf("%d %s objects, want %d", kinds[kind], kind, want)
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment")
	}
	c := deployment.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"} {
		if !strings.Contains(args, want) {
			t.Errorf("manager args %q lack %s", args, want)
		}
	}
	// The nodes' NetworkPolicies admit RPC from the pods with these labels
	// in the namespace POD_NAMESPACE names.
	for k, v := range resources.OperatorPodLabels {
		if deployment.Spec.Template.Labels[k] != v {
			t.Errorf("manager pod label %s=%q, want %q: the nodes' NetworkPolicy would shut the operator out", k, deployment.Spec.Template.Labels[k], v)
		}
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Errorf("manager env %v lacks POD_NAMESPACE from the downward API", c.Env)
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("manager resources %v: want requests and limits", c.Resources)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := deployment.Spec.Template
	for _, r := range evaluator.EvaluatePod(api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}, &tmpl.ObjectMeta, &tmpl.Spec) {
		if !r.Allowed {
			t.Errorf("manager pod fails restricted pod security: %s: %s", r.ForbiddenReason, r.ForbiddenDetail)
		}
	}
}

func TestSamplesAreValidNetworks(t *testing.T) {
	objs := kustomizeBuild(t, "config/samples")
	if len(objs) < 2 {
		t.Fatalf("%d samples, want one per implementation", len(objs))
	}
	for _, u := range objs {
		u.SetNamespace("default")
		apply(t, u)
	}
}

// TestOperatorRBACIsTheReviewedAllowList compares the operator's rules,
// generated from its +kubebuilder:rbac markers, to the list reviewed here:
// a new permission is a visible change to this test. No wildcard, no delete
// beyond NetworkPolicies (removed when a network disables them; everything
// else is the garbage collector's).
func TestOperatorRBACIsTheReviewedAllowList(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(raw, role); err != nil {
		t.Fatal(err)
	}
	reviewed := map[string]string{
		"/configmaps":                        "create,get,list,patch,watch",
		"/secrets":                           "create,get,list,patch,watch",
		"/services":                          "create,get,list,patch,watch",
		"/pods":                              "get,list,watch",
		"apps/statefulsets":                  "create,get,list,patch,watch",
		"networking.k8s.io/networkpolicies":  "create,delete,get,list,patch,watch",
		"authentication.k8s.io/tokenreviews": "create",
		"authorization.k8s.io/subjectaccessreviews":               "create",
		"bitcoin.network-operator.dev/bitcoinnetworks":            "get,list,watch",
		"bitcoin.network-operator.dev/bitcoinnetworks/finalizers": "update",
		"bitcoin.network-operator.dev/bitcoinnetworks/status":     "get,patch,update",
		// The fault controller adds and removes its finalizer and writes
		// the fault's status; it never creates or deletes a fault.
		"bitcoin.network-operator.dev/bitcoinnetworkfaults":            "get,list,patch,update,watch",
		"bitcoin.network-operator.dev/bitcoinnetworkfaults/status":     "get,patch,update",
		"bitcoin.network-operator.dev/bitcoinnetworkfaults/finalizers": "update",
		"events.k8s.io/events": "create,patch",
	}
	got := map[string]string{}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, s := range append(append([]string{g, res}, r.Verbs...), r.ResourceNames...) {
					if strings.Contains(s, "*") {
						t.Errorf("wildcard in rule %+v", r)
					}
				}
				verbs := slices.Sorted(slices.Values(r.Verbs))
				got[g+"/"+res] = strings.Join(verbs, ",")
			}
		}
	}
	for k, v := range got {
		if reviewed[k] != v {
			t.Errorf("%s: %q, reviewed %q", k, v, reviewed[k])
		}
	}
	for k := range reviewed {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: reviewed but not granted", k)
		}
	}
}

// make deploy runs the operator image IMG and gives it the node images a
// user names (their own builds, a mirror), without editing a tracked file.
func TestMakeDeployHonoursTheImagesItIsGiven(t *testing.T) {
	root := envtest.RepoRoot()
	tracked := filepath.Join(root, "config", "manager", "kustomization.yaml")
	before, err := os.ReadFile(tracked)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"IMG":                    "registry.example/team/operator:dev",
		"RELATED_IMAGE_BITCOIND": "registry.example/team/bitcoind:29.3-patched",
		"RELATED_IMAGE_BTCD":     "registry.example/team/btcd@sha256:" + strings.Repeat("ab", 32),
		"RELATED_IMAGE_KNOTS":    "registry.example/team/knots:mine",
	}
	args := []string{"-s", "--no-print-directory", "deploy-manifests"}
	for k, v := range want {
		args = append(args, k+"="+v)
	}
	cmd := exec.Command("make", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make deploy-manifests: %v\n%s", err, stderr.String())
	}
	objs, err := envtest.DecodeYAML(out)
	if err != nil {
		t.Fatal(err)
	}
	var d *appsv1.Deployment
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			d = &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if d == nil || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("no Deployment of one container in make deploy-manifests' output")
	}
	c := d.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if c.Image != want["IMG"] || env["RELATED_IMAGE_OPERATOR"] != want["IMG"] {
		t.Errorf("manager image %q, RELATED_IMAGE_OPERATOR %q; want %q", c.Image, env["RELATED_IMAGE_OPERATOR"], want["IMG"])
	}
	for _, k := range []string{"RELATED_IMAGE_BITCOIND", "RELATED_IMAGE_BTCD", "RELATED_IMAGE_KNOTS"} {
		if env[k] != want[k] {
			t.Errorf("%s = %q, want %q", k, env[k], want[k])
		}
	}
	if len(c.Env) != len(env) {
		t.Errorf("env has duplicate names: %+v", c.Env)
	}
	after, err := os.ReadFile(tracked)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("make deploy-manifests edited %s", tracked)
	}
	// A value that is no image reference is refused, not written into YAML.
	bad := exec.Command("make", "-s", "--no-print-directory", "deploy-manifests", "IMG=evil: {kind: Secret}")
	bad.Dir = root
	if msg, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(msg), "not an image reference") {
		t.Errorf("make deploy-manifests with a broken IMG: %v\n%s", err, msg)
	}
}
