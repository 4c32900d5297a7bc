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

// Package nodeconfig checks that real Bitcoin Core accepts the configuration,
// arguments and probe the operator renders, on every chain.
package nodeconfig

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// pod is a bitcoind pod's rendered container, mapped into a directory.
type pod struct {
	network  *v1alpha1.BitcoinNetwork
	dir      string
	config   string // the rendered node.conf
	args     []string
	probe    []string // the readiness probe command
	user     string
	password string
}

// renderPod renders a bitcoind network's pod as the operator would and maps
// its volumes (config, data) into a temporary directory.
func renderPod(t *testing.T, chain v1alpha1.Chain) *pod {
	return renderPodOf(t, chain, v1alpha1.ImplementationBitcoind)
}

// renderPodOf is renderPod for Bitcoin Core or Knots.
func renderPodOf(t *testing.T, chain v1alpha1.Chain, impl v1alpha1.Implementation) *pod {
	t.Helper()
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: "chk", Namespace: "default", UID: "uid-1"}}
	n.Spec.Nodes, n.Spec.Chain, n.Spec.Implementation = ptr.To[int32](1), chain, impl
	p := &pod{network: n, dir: t.TempDir(), config: resources.NodeConfig(n, resources.Groups(n)[0]), user: "bitcoin", password: "rendered-password"}
	sts := resources.DesiredStatefulSet(n, resources.Groups(n)[0], resources.NodeParams{Image: "bitcoind:test", CredentialsHash: "h"})
	c := sts.Spec.Template.Spec.Containers[0]
	if c.Command[0] != "bitcoind" || c.ReadinessProbe.Exec == nil || c.ReadinessProbe.Exec.Command[0] != "bitcoin-cli" {
		t.Fatalf("rendered container runs %v with probe %v, want bitcoind probed by bitcoin-cli", c.Command, c.ReadinessProbe)
	}
	mapPath := realnode.PathMapper(map[string]string{
		resources.ConfigDir: filepath.Join(p.dir, "config"),
		resources.DataDir:   filepath.Join(p.dir, "data"),
	})
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"BITCOIN_RPCAUTH": rpcauth.Value(p.user, "00112233445566778899aabbccddeeff", p.password)}
	p.args = realnode.ExpandArgs(c.Args, env, mapPath)
	p.probe = realnode.ExpandArgs(c.ReadinessProbe.Exec.Command[1:], env, mapPath)
	return p
}

func (p *pod) writeConfig(t *testing.T, conf string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "config", "node.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEveryChainStartsWithTheRenderedConfiguration starts real bitcoind once
// per chain with what the operator renders (config file, arguments,
// rpcauth from the Secret), bound to a loopback IP and, beyond regtest,
// with dnsseed=0, fixedseeds=0 and connect=0 so it never dials out; it
// must report the chain, answer the rendered readiness probe and listen on
// the rendered ports.
func TestEveryChainStartsWithTheRenderedConfiguration(t *testing.T) {
	dir := realnode.RequireBitcoind(t)
	for i, tc := range []struct {
		chain v1alpha1.Chain
		core  string // getblockchaininfo's name for it
	}{
		{v1alpha1.ChainRegtest, "regtest"}, {v1alpha1.ChainSignet, "signet"},
		{v1alpha1.ChainTestnet3, "test"}, {v1alpha1.ChainTestnet4, "testnet4"},
	} {
		t.Run(string(tc.chain), func(t *testing.T) {
			t.Parallel()
			p := renderPod(t, tc.chain)
			ip := fmt.Sprintf("127.102.0.%d", i+2)
			mapped, err := realnode.MapBitcoindConfig(p.config, ip)
			if err != nil {
				t.Fatal(err)
			}
			if tc.chain != v1alpha1.ChainRegtest {
				for _, opt := range realnode.LoopbackOnly {
					if !strings.Contains(mapped, "\n"+opt+"\n") {
						t.Fatalf("a %s node would start without %s:\n%s", tc.chain, opt, mapped)
					}
				}
			}
			p.writeConfig(t, mapped)
			proc, err := realnode.StartProcess(filepath.Join(dir, "bitcoind"), p.args, []string{"HOME=" + p.dir}, filepath.Join(p.dir, "bitcoind.out"))
			if err != nil {
				t.Fatal(err)
			}
			defer proc.Stop(30 * time.Second)
			ports := resources.PortsFor(v1alpha1.ImplementationBitcoind, tc.chain)
			rpc := fmt.Sprintf("%s:%d", ip, ports.RPC)
			if err := realnode.WaitListening(proc, rpc, 60*time.Second); err != nil {
				t.Fatal(err)
			}
			node := bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: rpc, User: p.user, Password: p.password}, bitcoin.Transport(nil), 5*time.Second)
			var info bitcoin.ChainInfo
			if err := envtest.Poll(60*time.Second, 100*time.Millisecond, func() (err error) { info, err = node.ChainInfo(context.Background()); return err }); err != nil {
				t.Fatalf("getblockchaininfo with the Secret's credentials: %v\n%s", err, proc.LogTail(20))
			}
			if info.Chain != tc.core {
				t.Errorf("node reports chain %q, want %q", info.Chain, tc.core)
			}
			if tc.chain == v1alpha1.ChainRegtest && (info.InitialBlockDownload == nil || *info.InitialBlockDownload) {
				// The genesis is from 2011: without the rendered maxtipage a
				// regtest node without blocks stays in initial block download.
				t.Errorf("a regtest node at the genesis reports initialblockdownload %v, want false", info.InitialBlockDownload)
			}
			if logs, _ := filepath.Glob(filepath.Join(p.dir, "data", "*", "debug.log")); len(logs) > 0 {
				t.Errorf("the node writes %v on its data volume; it should log to the console only", logs)
			}
			if err := realnode.WaitListening(proc, fmt.Sprintf("%s:%d", ip, ports.P2P), 10*time.Second); err != nil {
				t.Errorf("P2P port: %v", err)
			}
			if out, err := exec.Command(filepath.Join(dir, "bitcoin-cli"), p.probe...).CombinedOutput(); err != nil {
				t.Errorf("the rendered readiness probe fails: %v\n%s", err, out)
			}
			if peers, err := node.Peers(context.Background()); err != nil || len(peers) != 0 {
				t.Errorf("peers %v (%v): a test node must connect to no one", peers, err)
			}
		})
	}
}

// TestRenderedConfigurationListensOnIPv4AndIPv6 runs bitcoind with the
// rendered configuration unchanged, in a network namespace of its own as
// in a pod, and checks that peers and RPC clients reach it over both IPv4
// and IPv6: IPv6-only and dual-stack clusters need the second.
func TestRenderedConfigurationListensOnIPv4AndIPv6(t *testing.T) {
	dirs := realnode.RequireReleases(t)
	for _, tool := range []string{"unshare", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			realnode.SkipUnlessCI(t, "no %s on this machine: cannot give bitcoind a network namespace", tool)
		}
	}
	// Knots gets a configuration of its own (it exits when an rpcbind
	// fails), run here beside Bitcoin Core v29.3 and v30.0.
	for _, c := range []struct {
		name, release string
		impl          v1alpha1.Implementation
	}{{"core-29.3", "", v1alpha1.ImplementationBitcoind}, {"core-30.0", realnode.Core30, v1alpha1.ImplementationBitcoind}, {"knots", realnode.Knots, v1alpha1.ImplementationKnots}} {
		t.Run(c.name, func(t *testing.T) { listensOnBothFamilies(t, dirs[c.release], c.impl) })
	}
}

func listensOnBothFamilies(t *testing.T, dir string, impl v1alpha1.Implementation) {
	p := renderPodOf(t, v1alpha1.ChainRegtest, impl)
	p.writeConfig(t, p.config)
	// A network namespace of its own (root), or inside a user namespace of
	// its own where creating one needs that (-r).
	var proc *realnode.Process
	var cli func(connect string) error
	var failures []string
	for _, flags := range [][]string{{"--net"}, {"-r", "--net"}} {
		var err error
		proc, cli, err = startInNetworkNamespace(t, p, dir, flags)
		if err == nil {
			break
		}
		failures = append(failures, fmt.Sprintf("unshare %s: %v", strings.Join(flags, " "), err))
		proc = nil
	}
	if proc == nil {
		realnode.SkipUnlessCI(t, "cannot run bitcoind in a network namespace here: %s", strings.Join(failures, "; "))
	}
	defer proc.Stop(30 * time.Second)
	pid := proc.Pid()
	if err := cli("::1"); err != nil {
		t.Errorf("RPC over IPv6: %v", err)
	}
	ports := resources.PortsFor(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	for _, family := range []string{"tcp", "tcp6"} {
		listening, err := listeningPorts(pid, family)
		if err != nil {
			t.Fatal(err)
		}
		if !listening[int(ports.P2P)] {
			t.Errorf("no %s listener for peers on port %d (listening: %v)", family, ports.P2P, listening)
		}
		if family == "tcp6" && !listening[int(ports.RPC)] {
			t.Errorf("no %s listener for RPC on port %d (listening: %v)", family, ports.RPC, listening)
		}
	}
}

// startInNetworkNamespace starts bitcoind with the pod's configuration in a
// new network namespace (unshare with flags), and returns it with a
// bitcoin-cli runner inside that namespace once RPC answers over IPv4.
func startInNetworkNamespace(t *testing.T, p *pod, dir string, flags []string) (*realnode.Process, func(string) error, error) {
	args := append(append(slices.Clone(flags), "--", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, filepath.Join(dir, "bitcoind")), p.args...)
	proc, err := realnode.StartProcess("/usr/bin/env", append([]string{"unshare"}, args...), []string{"HOME=" + p.dir, "PATH=" + os.Getenv("PATH")}, filepath.Join(p.dir, "bitcoind.out"))
	if err != nil {
		return nil, nil, err
	}
	enter := []string{"--net=/proc/" + strconv.Itoa(proc.Pid()) + "/ns/net"}
	if slices.Contains(flags, "-r") {
		enter = append(enter, "--user=/proc/"+strconv.Itoa(proc.Pid())+"/ns/user", "--preserve-credentials")
	}
	cli := func(connect string) error {
		args := append(append(slices.Clone(enter), "--", filepath.Join(dir, "bitcoin-cli"), "-rpcconnect="+connect), p.probe...)
		out, err := exec.Command("nsenter", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := envtest.Poll(30*time.Second, 100*time.Millisecond, func() error {
		if !proc.Alive() {
			return fmt.Errorf("bitcoind exited:\n%s", proc.LogTail(20))
		}
		return cli("127.0.0.1")
	}); err != nil {
		proc.Stop(10 * time.Second)
		return nil, nil, fmt.Errorf("RPC over IPv4: %w", err)
	}
	return proc, cli, nil
}

// listeningPorts reads the ports with a wildcard listener in a process's
// network namespace from /proc/<pid>/net/tcp or tcp6.
func listeningPorts(pid int, family string) (map[int]bool, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, family))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ports := map[int]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		// sl local_address rem_address st ...; st 0A is LISTEN.
		if len(fields) < 4 || fields[3] != "0A" {
			continue
		}
		host, port, _ := strings.Cut(fields[1], ":")
		if strings.Trim(host, "0") != "" {
			continue // bound to one address, not every address
		}
		if p, err := strconv.ParseInt(port, 16, 32); err == nil {
			ports[int(p)] = true
		}
	}
	return ports, s.Err()
}
