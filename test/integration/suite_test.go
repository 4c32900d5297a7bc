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

// Package integration runs the operator against a real kube-apiserver with
// real btcd and Bitcoin Core nodes started by the pod simulator.
package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/nodes"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

var (
	k8s client.Client
	sim *podsim.Simulator
	// metricsAddress is where the operator serves its metrics.
	metricsAddress string
)

// freeAddress is a loopback address with a port nothing listens on.
func freeAddress() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func TestMain(m *testing.M) {
	if server := os.Getenv(kubectlShimEnv); server != "" {
		// Run as the README's kubectl (see readme_test.go).
		os.Exit(kubectlShim(server, os.Args[1:]))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	out, err := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "tools.sh"), "btcd").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building btcd:", err)
		return 1
	}
	if metricsAddress, err = freeAddress(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	op, err := envtest.StartOperatorWith(&controllers.Operator{
		DefaultImages: map[v1alpha1.Implementation]string{v1alpha1.ImplementationBitcoind: "bitcoind:test", v1alpha1.ImplementationBtcd: "btcd:test"},
		ClusterDomain: "cluster.local",
		Nodes:         nodes.Options{RPCTimeout: 3 * time.Second, CheckInterval: 5 * time.Second, Concurrency: 8},
	}, envtest.ManagerOptions{MetricsBindAddress: metricsAddress})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer op.Stop()
	k8s = op.Client
	workDir, err := os.MkdirTemp("", "podsim-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	// bitcoind pods run real Bitcoin Core where it is found; tests that
	// need it say so with realnode.RequireBitcoind.
	bitcoindDir, err := realnode.BitcoindDir()
	if err != nil && realnode.BitcoindRequired() {
		fmt.Fprintf(os.Stderr, "real bitcoind required (%s=1): %v\n", realnode.EnvRequireBitcoind, err)
		return 1
	}
	sim = &podsim.Simulator{Client: k8s, BtcdDir: strings.TrimSpace(string(out)), BitcoindDir: bitcoindDir, WorkDir: workDir, Subnet: 61, EmulateStatefulSets: true}
	if os.Getenv("TEST_OPERATOR_LOGS") != "" {
		sim.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "podsim: "+f+"\n", a...) }
	}
	simDone := make(chan struct{})
	simCtx, stopSim := context.WithCancel(context.Background())
	go func() { _ = sim.Run(simCtx); close(simDone) }()
	defer func() { stopSim(); <-simDone }()
	return m.Run()
}

func newNamespace(t *testing.T) string { return fixture.NewNamespace(t, k8s) }

func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	fixture.Eventually(t, timeout, what, check)
}

func waitConnected(t *testing.T, n *v1alpha1.BitcoinNetwork, timeout time.Duration) *v1alpha1.BitcoinNetwork {
	t.Helper()
	return fixture.WaitConnected(t, k8s, n, timeout)
}

// nodeClient returns an RPC client for a node (see podsim.NodeClient).
func nodeClient(t *testing.T, n *v1alpha1.BitcoinNetwork, node v1alpha1.NodeStatus) bitcoin.Node {
	t.Helper()
	c, err := podsim.NodeClient(context.Background(), k8s, n, node, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitStopped waits until no pod of the namespace runs a node.
func waitStopped(t *testing.T, ns string) {
	t.Helper()
	eventually(t, 60*time.Second, "nodes stopped", func() error {
		for _, r := range sim.Running() {
			if strings.HasPrefix(r, ns+"/") {
				return fmt.Errorf("pod %s still runs", r)
			}
		}
		return nil
	})
}
