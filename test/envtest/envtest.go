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

// Package envtest starts a real kube-apiserver and etcd (built by
// hack/tools.sh) with the operator's generated CRD installed, for tests.
package envtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Assets returns the directory holding etcd and kube-apiserver: the
// KUBEBUILDER_ASSETS environment variable, or else the toolchain cache,
// building the binaries on first use. It never gives up silently: tests
// that need an API server fail when it cannot be had.
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "tools.sh"), "envtest")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building envtest assets with hack/tools.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Environment is a running API server with the BitcoinNetwork CRD.
type Environment struct {
	*envtest.Environment
	Config *rest.Config

	cancelInterrupt func()
}

// Start starts etcd and kube-apiserver and installs the CRD generated into
// config/crd/bases.
func Start() (*Environment, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme.Scheme); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest (assets in %s): %w", assets, err)
	}
	e := &Environment{Environment: env, Config: cfg}
	e.cancelInterrupt = StopOnInterrupt(func() { _ = env.Stop() })
	return e, nil
}

// Stop stops the API server and etcd.
func (e *Environment) Stop() error {
	if e.cancelInterrupt != nil {
		e.cancelInterrupt()
	}
	return e.Environment.Stop()
}

// Run is a TestMain body for packages that only need a client: it starts
// the environment, sets *c, runs the tests and stops the environment. It
// returns the exit code.
func Run(m *testing.M, c *client.Client) int {
	env, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}()
	if *c, err = client.New(env.Config, client.Options{Scheme: scheme.Scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// StopOnInterrupt runs stop and exits when the process gets SIGINT or
// SIGTERM (Ctrl-C on "make test"), so servers a test started do not outlive
// it. The returned function cancels the handler.
func StopOnInterrupt(stop func()) (cancel func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "interrupted: stopping the servers this test started")
			stop()
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// Poll calls check every interval until it returns nil or timeout has
// passed, and returns check's last error (nil on success).
func Poll(timeout, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(interval)
	}
}

// DecodeYAML splits YAML (or JSON) documents into objects, skipping empty
// documents.
func DecodeYAML(raw []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}
