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

// Package reliability checks that the operator survives faults, with a real
// API server and real nodes: operators killed mid-reconcile, a leader
// handing over, API errors on every verb, nodes that hang, die, answer
// garbage or reject the credentials. Each test runs the operator managers
// it needs itself.
package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/nodes"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

var (
	env *envtest.Environment
	k8s client.Client
	sim *podsim.Simulator
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	out, err := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "tools.sh"), "btcd").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building btcd:", err)
		return 1
	}
	bitcoindDir, err := realnode.BitcoindDir()
	if err != nil && realnode.BitcoindRequired() {
		fmt.Fprintf(os.Stderr, "real bitcoind required (%s=1): %v\n", realnode.EnvRequireBitcoind, err)
		return 1
	}
	envtest.SetTestLogger()
	if env, err = envtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(env.Config, client.Options{Scheme: scheme.Scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	workDir, err := os.MkdirTemp("", "podsim-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	sim = &podsim.Simulator{Client: k8s, BtcdDir: strings.TrimSpace(string(out)), BitcoindDir: bitcoindDir, WorkDir: workDir, Subnet: 66, EmulateStatefulSets: true}
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan struct{})
	go func() { _ = sim.Run(simCtx); close(simDone) }()
	defer func() { stopSim(); <-simDone }()
	return m.Run()
}

// rpcTimeout bounds each RPC call of the operators these tests run.
const rpcTimeout = 2 * time.Second

// newReconciler is a fresh operator, as a new process would have it.
func newReconciler() *controllers.Operator {
	return &controllers.Operator{
		DefaultImages: map[v1alpha1.Implementation]string{v1alpha1.ImplementationBitcoind: "bitcoind:test", v1alpha1.ImplementationBtcd: "btcd:test"},
		ClusterDomain: "cluster.local",
		Nodes:         nodes.Options{RPCTimeout: rpcTimeout, CheckInterval: 5 * time.Second, Concurrency: 8},
	}
}

// runOperator runs a manager until the test ends (or Stop).
func runOperator(t *testing.T, opts envtest.ManagerOptions) *envtest.Manager {
	t.Helper()
	m, err := envtest.RunManager(env.Config, newReconciler(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}
