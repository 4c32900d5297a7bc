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

package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// kubectlShimEnv, when set, makes the test binary the kubectl that the
// README's blocks call: it carries each call to the test's server.
const kubectlShimEnv = "BNO_KUBECTL_SHIM"

// shimExec is a kubectl exec call and its outcome.
type shimExec struct {
	Pod     string   `json:"pod"`
	Command []string `json:"command"`
	Stdout  []byte   `json:"stdout,omitempty"`
	Stderr  []byte   `json:"stderr,omitempty"`
	Code    int      `json:"code"`
}

// kubectlShim is the kubectl of a README block: "exec POD -- CMD..." and
// "get secret NAME -o jsonpath={.data.KEY}", in the namespace the test
// gave; anything else fails, so a block that needs more says so.
func kubectlShim(server string, args []string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "kubectl (test shim):", err); return 1 }
	switch {
	case len(args) >= 4 && args[0] == "exec" && args[2] == "--":
		body, _ := json.Marshal(shimExec{Pod: args[1], Command: args[3:]})
		resp, err := http.Post(server+"/exec", "application/json", bytes.NewReader(body))
		if err != nil {
			return fail(err)
		}
		defer resp.Body.Close()
		var r shimExec
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return fail(err)
		}
		_, _ = os.Stdout.Write(r.Stdout)
		_, _ = os.Stderr.Write(r.Stderr)
		return r.Code
	case len(args) == 5 && args[0] == "get" && args[1] == "secret" && args[3] == "-o":
		m := regexp.MustCompile(`^jsonpath=\{\.data\.([-._a-zA-Z0-9]+)\}$`).FindStringSubmatch(args[4])
		if m == nil {
			return fail(fmt.Errorf("unsupported output %q", args[4]))
		}
		resp, err := http.Get(server + "/secret?name=" + args[2] + "&key=" + m[1])
		if err != nil {
			return fail(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fail(errors.New(string(out)))
		}
		_, _ = os.Stdout.Write(out)
		return 0
	default:
		return fail(fmt.Errorf("unsupported call %q", args))
	}
}

// serveShim answers the shim's calls for namespace ns: exec through the
// pod simulator, Secrets from the API server.
func serveShim(t *testing.T, ns string) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/exec", func(w http.ResponseWriter, r *http.Request) {
		var call shimExec
		if err := json.NewDecoder(r.Body).Decode(&call); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		var err error
		call.Stdout, call.Stderr, err = sim.Exec(ctx, ns, call.Pod, call.Command)
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			call.Code = exit.ExitCode()
		case err != nil:
			call.Stderr, call.Code = []byte(err.Error()+"\n"), 1
		}
		// The method only: the arguments may hold a key (importdescriptors).
		method := ""
		for _, a := range call.Command[1:] {
			if !strings.HasPrefix(a, "-") {
				method = a
				break
			}
		}
		t.Logf("kubectl exec %s -- %s … %s …: exit %d", call.Pod, call.Command[0], method, call.Code)
		_ = json.NewEncoder(w).Encode(call)
	})
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		s := &corev1.Secret{}
		if err := k8s.Get(r.Context(), types.NamespacedName{Namespace: ns, Name: r.URL.Query().Get("name")}, s); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, base64.StdEncoding.EncodeToString(s.Data[r.URL.Query().Get("key")]))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// readmeBlock finds the shell block that follows the marker naming this
// test, in README.md or docs/.
func readmeBlock(t *testing.T, marker string) (file, block string) {
	root := envtest.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, f := range append([]string{filepath.Join(root, "README.md")}, files...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, after, ok := strings.Cut(string(raw), marker)
		if !ok {
			continue
		}
		m := regexp.MustCompile("(?s)^[^\n]*\n```sh\n(.*?)```").FindStringSubmatch(after)
		if m == nil {
			t.Fatalf("%s: no ```sh block right after %q", f, marker)
		}
		return f, m[1]
	}
	t.Fatalf("no README or docs page has %q", marker)
	return "", ""
}

// The README's coins recipe, run as it stands with bash on real Bitcoin
// Core: it ends printing the balance it paid.
func TestTheREADMECoinsRecipeRunsAsWritten(t *testing.T) {
	realnode.RequireBitcoind(t)
	file, block := readmeBlock(t, "<!-- run by test/integration/readme_test.go")
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetworkWith(t, k8s, ns, "regtest", v1alpha1.ImplementationBitcoind, 2, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 101}
	})
	eventually(t, 2*time.Minute, "the network Ready at 101", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if err := fixture.ReadyAndConnected(n); err != nil {
			return err
		}
		if n.Status.TipHeight != 101 {
			return fmt.Errorf("tip %d", n.Status.TipHeight)
		}
		return nil
	})
	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "kubectl")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), kubectlShimEnv+"="+serveShim(t, ns))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the block of %s failed: %v\nstdout:\n%s\nstderr:\n%s", file, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if last := lines[len(lines)-1]; last != "1.00000000" {
		t.Errorf("the block of %s ended printing %q, want alice's balance 1.00000000\nstdout:\n%s", file, last, stdout.String())
	}
}
