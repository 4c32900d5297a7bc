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

package images

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// finalStage returns the USER and ENTRYPOINT of a Dockerfile's last stage.
func finalStage(t *testing.T, ins []instruction) (user, entrypoint string, base string) {
	t.Helper()
	st := stages(ins)
	last := st[len(st)-1]
	base = strings.Fields(last[0].args)[0]
	for _, in := range last {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		}
	}
	return user, entrypoint, base
}

// numericNonRoot reports whether a USER value is "uid:gid" with a non-zero
// uid: what the kubelet needs to admit runAsNonRoot without runAsUser.
func numericNonRoot(user string) bool {
	uid, gid, ok := strings.Cut(user, ":")
	u, err1 := strconv.Atoi(uid)
	_, err2 := strconv.Atoi(gid)
	return ok && err1 == nil && err2 == nil && u > 0
}

func makeVar(t *testing.T, makefile, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` \?= (.*)$`).FindStringSubmatch(makefile)
	if m == nil {
		t.Fatalf("Makefile does not set %s", name)
	}
	return m[1]
}

func TestNodeImagesRunAsNonRootAndMatchTheDefaults(t *testing.T) {
	root := envtest.RepoRoot()
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	makefile := read("Makefile")
	registry := makeVar(t, makefile, "IMAGE_REGISTRY")
	defaults := map[string]string{}
	for _, v := range []string{"RELATED_IMAGE_BITCOIND", "RELATED_IMAGE_BTCD", "RELATED_IMAGE_KNOTS"} {
		defaults[v] = strings.ReplaceAll(makeVar(t, makefile, v), "$(IMAGE_REGISTRY)", registry)
	}

	// btcd is built from the version the tests run.
	btcdVersion := regexp.MustCompile(`(?m)^BTCD_VERSION=(\S+)`).FindStringSubmatch(read("hack/tools.sh"))[1]
	btcd := parseDockerfile(t, filepath.Join(root, "images", "btcd", "Dockerfile"))
	var arg string
	for _, in := range btcd {
		if in.cmd == "ARG" && strings.HasPrefix(in.args, "BTCD_VERSION=") {
			arg = strings.TrimPrefix(in.args, "BTCD_VERSION=")
		}
	}
	if arg != btcdVersion {
		t.Errorf("images/btcd builds btcd %q, the tests run %q", arg, btcdVersion)
	}
	if !strings.HasSuffix(defaults["RELATED_IMAGE_BTCD"], ":"+btcdVersion) {
		t.Errorf("default btcd image %q is not tagged %s", defaults["RELATED_IMAGE_BTCD"], btcdVersion)
	}
	user, entrypoint, base := finalStage(t, btcd)
	if !numericNonRoot(user) || entrypoint != `["btcd"]` || !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("btcd image: USER %q ENTRYPOINT %s base %s; want a numeric non-root user running btcd on distroless", user, entrypoint, base)
	}

	bitcoind := parseDockerfile(t, filepath.Join(root, "images", "bitcoind", "Dockerfile"))
	user, entrypoint, base = finalStage(t, bitcoind)
	if !numericNonRoot(user) || entrypoint != `["bitcoind"]` {
		t.Errorf("bitcoind image: USER %q ENTRYPOINT %s; want a numeric non-root user running bitcoind", user, entrypoint)
	}
	_, coreVersion, _ := strings.Cut(base, ":")
	if !pinnedImage.MatchString(base) || coreVersion == "" || coreVersion == "latest" {
		t.Errorf("bitcoind base %q is not pinned to a release", base)
	}
	if !strings.HasSuffix(defaults["RELATED_IMAGE_BITCOIND"], ":"+coreVersion) {
		t.Errorf("default bitcoind image %q is not tagged with the Core release %s it packages", defaults["RELATED_IMAGE_BITCOIND"], coreVersion)
	}

	// The shipped Deployment uses the same defaults as "make run".
	docs := strings.Split(read("config/manager/manager.yaml"), "\n---\n")
	var dep appsv1.Deployment
	if err := yaml.Unmarshal([]byte(docs[len(docs)-1]), &dep); err != nil {
		t.Fatal(err)
	}
	for _, env := range dep.Spec.Template.Spec.Containers[0].Env {
		if want, ok := defaults[env.Name]; ok && env.Value != want {
			t.Errorf("Deployment sets %s=%q, the Makefile %q", env.Name, env.Value, want)
		}
		delete(defaults, env.Name)
	}
	if len(defaults) != 0 {
		t.Errorf("the Deployment does not set %v", defaults)
	}
}
