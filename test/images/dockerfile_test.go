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

// Package images checks the image descriptions (Dockerfiles) that cannot be
// built here, because no container engine runs on the build machines.
package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"sigs.k8s.io/yaml"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

const modulePath = "github.com/bitcoin-network-operator/bitcoin-network-operator"

// instruction is one Dockerfile instruction with continuations joined.
type instruction struct {
	cmd  string
	args string
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// stages splits the instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

var pinnedImage = regexp.MustCompile(`^[a-z0-9.-]+(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$`)

func TestOperatorDockerfile(t *testing.T) {
	root := envtest.RepoRoot()
	ins := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	st := stages(ins)
	if len(st) != 2 {
		t.Fatalf("want a two-stage build (builder, runtime), got %d stages", len(st))
	}

	// Base images are fully qualified and pinned to a version, never latest.
	for _, s := range st {
		ref := strings.Fields(s[0].args)[0]
		if !pinnedImage.MatchString(ref) || !(strings.Contains(ref, ":") || strings.Contains(ref, "@")) || strings.HasSuffix(ref, ":latest") {
			t.Errorf("base image %q is not a fully qualified, pinned reference", ref)
		}
	}

	// The builder's Go is the one go.mod asks for.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		t.Fatal(err)
	}
	builder := strings.Fields(st[0][0].args)[0]
	if !strings.Contains(builder, "golang:"+mf.Go.Version+"-") {
		t.Errorf("builder image %q does not use Go %s from go.mod", builder, mf.Go.Version)
	}

	// The build command builds the main package into the binary the
	// runtime stage copies and runs.
	var build string
	var copied []string
	for _, in := range st[0] {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
		if in.cmd == "COPY" {
			f := strings.Fields(in.args)
			copied = append(copied, strings.TrimSuffix(f[0], "/"))
		}
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "-o manager ./cmd") {
		t.Errorf("build command %q does not build ./cmd statically into manager", build)
	}
	goList := func(args ...string) ([]byte, error) {
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = root
		return cmd.Output()
	}
	out, err := goList("-f", "{{.Name}}", "./cmd")
	if err != nil || strings.TrimSpace(string(out)) != "main" {
		t.Errorf("./cmd is not a main package (%q, %v)", out, err)
	}

	// Every package the manager imports from this module is copied in.
	deps, err := goList("-deps", "-f", "{{.ImportPath}}", "./cmd")
	if err != nil {
		t.Fatal(err)
	}
	dockerignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(deps)) {
		rel, ok := strings.CutPrefix(dep, modulePath+"/")
		if !ok {
			continue
		}
		top := strings.Split(rel, "/")[0]
		if !slices.Contains(copied, top) {
			t.Errorf("package %s is imported by the manager but %s/ is not copied into the builder", dep, top)
		}
		if !strings.Contains(string(dockerignore), "!"+top+"/") {
			t.Errorf(".dockerignore keeps %s/ out of the build context", top)
		}
	}

	// The runtime stage is shell-less and unprivileged, and runs what the
	// Deployment runs.
	runtime := st[1]
	if base := strings.Fields(runtime[0].args)[0]; !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("runtime base %q is not distroless static", base)
	}
	var user, entrypoint string
	for _, in := range runtime {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "RUN":
			t.Errorf("runtime stage runs %q: it has no shell", in.args)
		}
	}
	if user != "65532:65532" {
		t.Errorf("USER = %q, want 65532:65532", user)
	}
	if entrypoint != `["/manager"]` {
		t.Errorf("ENTRYPOINT = %s, want [\"/manager\"]", entrypoint)
	}
	manifest, err := os.ReadFile(filepath.Join(root, "config", "manager", "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(manifest), "\n---\n")
	var dep appsv1.Deployment
	if err := yaml.Unmarshal([]byte(docs[len(docs)-1]), &dep); err != nil {
		t.Fatal(err)
	}
	if cmd := dep.Spec.Template.Spec.Containers[0].Command; !slices.Equal(cmd, []string{"/manager"}) {
		t.Errorf("the Deployment runs %v, the image provides /manager", cmd)
	}
}
