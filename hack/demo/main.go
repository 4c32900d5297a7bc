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

// Command demo runs the operator end to end on this machine: a local
// cluster built by hack/tools.sh (etcd, kube-apiserver, the real
// kube-controller-manager and kube-scheduler, kwok simulating the
// kubelet), the operator binary, and the pod simulator starting a real
// node on every node pod's IP: btcd (built from Go modules, the default) or
// Bitcoin Core's bitcoind (--impl=bitcoind, from ../shared/bitcoind or
// $BNO_BITCOIND_DIR). It applies a 4-node regtest network, waits until it
// is Ready with every planned peer connection up, mines a few blocks on one
// node to show them reach every other, and prints what a user would look at.
//
//	go run ./hack/demo                  # keeps running until Ctrl-C
//	go run ./hack/demo --once           # prints the status and cleans up
//	go run ./hack/demo --impl=bitcoind  # the same on real Bitcoin Core
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/localcluster"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

func main() {
	once := flag.Bool("once", false, "print the network's status once it is ready, then clean up and exit")
	nodes := flag.Int("nodes", 4, "number of nodes")
	timeout := flag.Duration("timeout", 5*time.Minute, "how long to wait for the network")
	impl := flag.String("impl", "btcd", "node implementation: btcd or bitcoind")
	mixed := flag.Bool("mixed", false, "run one network of four groups instead: Bitcoin Core 29.3 and 30.0, Knots and btcd, two nodes each")
	chain := flag.String("chain", "regtest", "regtest, or signet: a private signet whose blocks the operator signs and mines (on Bitcoin Core)")
	flag.Parse()
	if *mixed {
		*impl = "mixed"
	}
	switch {
	case *chain == "signet" && *impl == "btcd":
		// btcd checks no signet block signatures (see spec.signet).
		*impl = "bitcoind"
	case *chain != "regtest" && *chain != "signet":
		fmt.Fprintln(os.Stderr, "--chain: want regtest or signet")
		os.Exit(2)
	}
	demoChain = v1alpha1.Chain(*chain)
	// Only errors from the libraries the demo uses: its own progress lines
	// are the output.
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *once, v1alpha1.Implementation(*impl), int32(*nodes), *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run(ctx context.Context, once bool, impl v1alpha1.Implementation, nodes int32, timeout time.Duration) error {
	bitcoindDir, err := demoReleases(impl)
	if err != nil {
		return err
	}
	root := envtest.RepoRoot()
	work, err := os.MkdirTemp("", "bitcoin-network-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("building the toolchain (cached after the first run) and the operator")
	btcdDir, err := tool(root, "btcd")
	if err != nil {
		return err
	}
	manager := filepath.Join(work, "manager")
	if err := runCmd(root, "go", "build", "-o", manager, "./cmd"); err != nil {
		return err
	}

	step("starting a local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (simulated kubelet)")
	cluster, err := localcluster.Start(ctx, localcluster.Options{PodCIDR: "127.62.0.0/16"})
	if err != nil {
		return err
	}
	defer func() {
		step("stopping the cluster")
		cluster.Stop()
	}()
	k8s, kubeconfigPath := cluster.Client, cluster.Kubeconfig
	if err := v1alpha1.AddToScheme(scheme.Scheme); err != nil {
		return err
	}
	step("installing the BitcoinNetwork and BitcoinNetworkFault CRDs")
	for _, crd := range []string{"bitcoinnetworks", "bitcoinnetworkfaults"} {
		if err := cluster.ApplyFile(ctx, filepath.Join(root, "config", "crd", "bases", "bitcoin.network-operator.dev_"+crd+".yaml"), ""); err != nil {
			return err
		}
	}
	if err := waitForCRD(ctx, k8s); err != nil {
		return err
	}

	operatorLog := filepath.Join(work, "operator.log")
	stopOperator, err := startOperator(ctx, manager, kubeconfigPath, operatorLog)
	if err != nil {
		return err
	}
	defer stopOperator()
	stopSim := startSimulator(k8s, impl, btcdDir, bitcoindDir, work)
	defer stopSim()

	n := demoNetwork(impl, nodes)
	if impl == mixedDemo {
		step("applying BitcoinNetwork %q: four groups of two nodes (Bitcoin Core 29.3 and 30.0, Knots, btcd) on regtest, one mesh", n.Name)
	} else {
		step("applying BitcoinNetwork %q: %d %s nodes on %s, mesh topology", n.Name, nodes, impl, demoChain)
	}
	if err := k8s.Create(ctx, n); err != nil {
		return err
	}
	if err := waitFor(ctx, k8s, n, timeout, func(n *v1alpha1.BitcoinNetwork) bool {
		return isTrue(n, v1alpha1.ConditionReady) && isTrue(n, v1alpha1.ConditionPeersConnected)
	}); err != nil {
		dumpLog(operatorLog)
		return err
	}
	step("network Ready, all planned peer connections up; waiting for the operator's %d initial blocks (spec.%s) on every node", demoInitialBlocks, demoChain)
	if err := waitFor(ctx, k8s, n, 3*time.Minute, func(n *v1alpha1.BitcoinNetwork) bool {
		for _, node := range n.Status.Nodes {
			if node.BlockHeight < demoInitialBlocks {
				return false
			}
		}
		return len(n.Status.Nodes) == int(resources.TotalNodes(n)) && isTrue(n, v1alpha1.ConditionInSync)
	}); err != nil {
		return err
	}
	if err := printStatus(ctx, k8s, n); err != nil {
		return err
	}
	if once {
		return nil
	}
	fmt.Printf("\nThe network keeps running. KUBECONFIG=%s reaches the API server. Ctrl-C stops everything.\n", kubeconfigPath)
	<-ctx.Done()
	return nil
}

// startOperator runs the operator binary against the cluster, logging to
// logPath, and returns how to stop it.
func startOperator(ctx context.Context, manager, kubeconfigPath, logPath string) (stop func(), err error) {
	step("starting the operator (%s)", "bin: go build ./cmd")
	operatorLog, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	op := exec.CommandContext(ctx, manager, "--health-probe-bind-address=0", "--metrics-bind-address=0", "--peer-check-interval=10s")
	op.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath, "RELATED_IMAGE_BTCD=ghcr.io/bitcoin-network-operator/btcd:v0.25.0",
		"RELATED_IMAGE_BITCOIND=ghcr.io/bitcoin-network-operator/bitcoind:29.3")
	op.Stdout, op.Stderr = operatorLog, operatorLog
	op.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := op.Start(); err != nil {
		operatorLog.Close()
		return nil, err
	}
	return func() {
		step("stopping the operator")
		_ = op.Process.Signal(syscall.SIGTERM)
		_ = op.Wait()
		operatorLog.Close()
	}, nil
}

// startSimulator runs the pod simulator (a real node per pod) until the
// returned function stops it.
func startSimulator(k8s client.Client, impl v1alpha1.Implementation, btcdDir, bitcoindDir, work string) (stop func()) {
	what := "a real " + string(impl)
	if impl == mixedDemo {
		what = "a real node (Bitcoin Core 29.3 or 30.0, Knots or btcd, by the pod's image)"
	}
	step("starting the pod simulator: %s on each node pod's IP (kwok gives pods 127.62.x.x addresses), Ready when its readiness probe passes", what)
	sim := &podsim.Simulator{Client: k8s, BtcdDir: btcdDir, BitcoindDir: bitcoindDir, WorkDir: work, KubeletSimulated: true}
	if os.Getenv("DEMO_DEBUG") != "" {
		sim.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "podsim: "+f+"\n", a...) }
	}
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan struct{})
	go func() { _ = sim.Run(simCtx); close(simDone) }()
	return func() {
		step("stopping the nodes")
		stopSim()
		<-simDone
	}
}

// waitForCRD waits until BitcoinNetworks can be listed.
func waitForCRD(ctx context.Context, k8s client.Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := k8s.List(ctx, &v1alpha1.BitcoinNetworkList{})
		if err == nil {
			err = k8s.List(ctx, &v1alpha1.BitcoinNetworkFaultList{})
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the CRDs are not served: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// demoInitialBlocks makes the first coinbase spendable.
const demoInitialBlocks = 101

// demoChain is the demo network's chain (--chain).
var demoChain = v1alpha1.ChainRegtest

// mixedDemo is --mixed: a network of four groups.
const mixedDemo v1alpha1.Implementation = "mixed"

// demoReleases checks the node binaries a demo needs are here, and returns
// Bitcoin Core v29.3's directory ("" for btcd alone).
func demoReleases(impl v1alpha1.Implementation) (string, error) {
	switch impl {
	case v1alpha1.ImplementationBtcd:
		return "", nil
	case v1alpha1.ImplementationBitcoind:
		dir, err := realnode.BitcoindDir()
		if err != nil {
			return "", fmt.Errorf("--impl=bitcoind needs Bitcoin Core's binaries: %w", err)
		}
		return dir, nil
	case mixedDemo:
		for _, release := range []string{realnode.Core30, realnode.Knots} {
			if _, err := realnode.ReleaseDir(release); err != nil {
				return "", fmt.Errorf("--mixed needs Bitcoin Core v29.3 and v30.0 and Knots: %w", err)
			}
		}
		dir, err := realnode.BitcoindDir()
		if err != nil {
			return "", fmt.Errorf("--mixed needs Bitcoin Core v29.3 and v30.0 and Knots: %w", err)
		}
		return dir, nil
	}
	return "", fmt.Errorf("--impl=%s: want btcd or bitcoind", impl)
}

func demoNetwork(impl v1alpha1.Implementation, nodes int32) *v1alpha1.BitcoinNetwork {
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "default"}}
	n.Spec.Chain, n.Spec.Topology = demoChain, v1alpha1.TopologyMesh
	if demoChain == v1alpha1.ChainSignet {
		// Blocks the operator signs and grinds: the initial ones take
		// about half a second each on two cores.
		n.Spec.Signet = &v1alpha1.SignetSpec{InitialBlocks: ptr.To[int32](demoInitialBlocks), BlockInterval: &metav1.Duration{Duration: 10 * time.Second}}
	} else {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: demoInitialBlocks}
	}
	if impl != mixedDemo {
		n.Spec.Nodes, n.Spec.Implementation = ptr.To(nodes), impl
		return n
	}
	// The images name the release; the pod simulator runs the build of
	// that release (see realnode.ReleaseOfImage).
	n.Spec.Groups = []v1alpha1.NodeGroup{
		{Name: "core29", Nodes: 2, Image: "ghcr.io/bitcoin-network-operator/bitcoind:29.3"},
		{Name: "core30", Nodes: 2, Image: "ghcr.io/bitcoin-network-operator/bitcoind:30.0"},
		{Name: "knots", Nodes: 2, Implementation: v1alpha1.ImplementationKnots, Image: "ghcr.io/bitcoin-network-operator/knots:29.3.knots20260210"},
		{Name: "btcd", Nodes: 2, Implementation: v1alpha1.ImplementationBtcd, Image: "ghcr.io/bitcoin-network-operator/btcd:v0.25.0"},
	}
	return n
}

func isTrue(n *v1alpha1.BitcoinNetwork, cond string) bool {
	c := meta.FindStatusCondition(n.Status.Conditions, cond)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == n.Generation
}

// waitFor polls the network until done, printing its progress on change.
func waitFor(ctx context.Context, k8s client.Client, n *v1alpha1.BitcoinNetwork, timeout time.Duration, done func(*v1alpha1.BitcoinNetwork) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		cur := &v1alpha1.BitcoinNetwork{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), cur); err == nil {
			line := fmt.Sprintf("    ready %d/%d", cur.Status.ReadyNodes, resources.TotalNodes(cur))
			for _, c := range cur.Status.Conditions {
				line += fmt.Sprintf("  %s=%s(%s)", c.Type, c.Status, c.Reason)
			}
			if line != last {
				fmt.Println(line)
				last = line
			}
			if done(cur) {
				*n = *cur
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network not ready in %s: %s", timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func printStatus(ctx context.Context, k8s client.Client, n *v1alpha1.BitcoinNetwork) error {
	fmt.Println()
	fmt.Println("$ kubectl get btcnet -o wide")
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	ready := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionReady)
	peers := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionPeersConnected)
	inSync := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync)
	fmt.Fprintln(w, "NAME\tCHAIN\tNODES\tREADY\tSTATUS\tHEIGHT\tINSYNC\tPEERS\tAGE")
	fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\n", n.Name, n.Spec.Chain, n.Status.DesiredNodes, n.Status.ReadyNodes, ready.Reason, n.Status.TipHeight, inSync.Status, peers.Status,
		time.Since(n.CreationTimestamp.Time).Round(time.Second))
	_ = w.Flush()

	fmt.Println("\nNodes (status.nodes):")
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tGROUP\tIP\tREADY\tPEERS\tEXPECTED\tHEIGHT\tBEST BLOCK\tVERSION\tMEMPOOL")
	for _, node := range n.Status.Nodes {
		mempool := "-"
		if node.MempoolTransactions != nil {
			mempool = strconv.FormatInt(*node.MempoolTransactions, 10)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%d\t%d\t%d\t%s\t%s\t%s\n", node.Name, cmp.Or(node.Group, "-"), node.IP, node.Ready, node.Peers, node.ExpectedPeers, node.BlockHeight,
			status.ShortHash(node.BestBlockHash), node.UserAgent, mempool)
	}
	_ = w.Flush()
	if len(n.Spec.Groups) > 0 {
		fmt.Println("\nGroups (status.groups):")
		w = tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
		fmt.Fprintln(w, "GROUP\tIMPLEMENTATION\tREADY\tVERSIONS\tIMAGE")
		for _, g := range n.Status.Groups {
			fmt.Fprintf(w, "%s\t%s\t%d/%d\t%s\t%s\n", g.Name, g.Implementation, g.ReadyNodes, g.DesiredNodes, strings.Join(g.UserAgents, " "), g.Image)
		}
		_ = w.Flush()
	}
	if m := n.Status.Mining; m != nil {
		fmt.Printf("\nTip: height %d, %s. Mined by the operator to %s (key in Secret %s); initial blocks complete at height %d.\n",
			n.Status.TipHeight, n.Status.TipHash, m.Address, m.MinerSecretName, m.InitialBlocksHeight)
	}

	fmt.Println("\nPeer graph (each edge added by one node; ✓ = connected, asked over RPC with getaddednodeinfo):")
	var sizes []int
	for _, g := range resources.Groups(n) {
		sizes = append(sizes, int(g.Nodes))
	}
	edges, err := topology.PlanGroups(topology.Kind(n.Spec.Topology), sizes)
	if err != nil {
		return err
	}
	// status.nodes lists the nodes by group and ordinal: by global index.
	byIndex := map[int]v1alpha1.NodeStatus{}
	for i, node := range n.Status.Nodes {
		byIndex[i] = node
	}
	p2p := resources.PortsFor(resources.Groups(n)[0].Implementation, n.Spec.Chain).P2P
	for index, node := range n.Status.Nodes {
		c, err := podsim.NodeClient(ctx, k8s, n, node, 5*time.Second)
		if err != nil {
			return err
		}
		added, err := c.AddedNodes(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", node.Name, err)
		}
		var parts []string
		for _, to := range topology.PeersOf(edges, index) {
			want := net.JoinHostPort(byIndex[to].IP, strconv.Itoa(int(p2p)))
			mark := "✗"
			for _, a := range added {
				if a.Address == want && a.Connected {
					mark = "✓"
				}
			}
			parts = append(parts, fmt.Sprintf("%s %s", byIndex[to].Name, mark))
		}
		if len(parts) == 0 {
			parts = append(parts, "(adds none; its peers add it)")
		}
		fmt.Printf("  %s → %s\n", node.Name, strings.Join(parts, ", "))
	}

	fmt.Println("\nConditions:")
	for _, c := range n.Status.Conditions {
		fmt.Printf("  %-15s %-6s %-18s %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return nil
}

func tool(root, name string) (string, error) {
	out, err := exec.Command(filepath.Join(root, "hack", "tools.sh"), name).Output()
	if err != nil {
		return "", fmt.Errorf("hack/tools.sh %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func runCmd(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	return cmd.Run()
}

func dumpLog(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(os.Stderr, "--- operator log ---")
	_, _ = io.Copy(os.Stderr, f)
}
