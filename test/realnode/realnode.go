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

// Package realnode runs real bitcoin node processes (Bitcoin Core's
// bitcoind, btcd) on loopback addresses for tests: it finds the binaries,
// maps a configuration rendered for a pod onto one loopback IP, holds a
// node in its warm-up on demand, and stops every process it started.
//
// Real nodes never reach beyond loopback: regtest has no seeds, and any
// other chain gets dnsseed=0, fixedseeds=0 and connect=0 (see MapBitcoindConfig).
//
// It is test tooling: production code never imports it.
package realnode

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// Environment variables of the real-bitcoind tier.
const (
	// EnvBitcoindDir names the directory holding bitcoind and bitcoin-cli.
	EnvBitcoindDir = "BNO_BITCOIND_DIR"
	// EnvRequireBitcoind, set to 1 (as CI does), turns a missing bitcoind
	// into a test failure instead of a skip.
	EnvRequireBitcoind = "BNO_REQUIRE_BITCOIND"
)

// The Bitcoin Core releases (and derivatives) the real-node tiers run
// beside v29.3, each a directory with bitcoind and bitcoin-cli.
const (
	// Core30 is Bitcoin Core v30.0: $BNO_BITCOIND30_DIR, or
	// ../shared/bitcoind-30.0/bin.
	Core30 = "30.0"
	// Knots is Bitcoin Knots 29.3.knots20260210: $BNO_KNOTS_DIR, or
	// ../shared/knots-29.3/bin.
	Knots = "knots"
)

// releaseDirs are, per release, its directory's variable and default.
var releaseDirs = map[string][2]string{
	"":     {EnvBitcoindDir, "bitcoind"},
	Core30: {"BNO_BITCOIND30_DIR", "bitcoind-30.0"},
	Knots:  {"BNO_KNOTS_DIR", "knots-29.3"},
}

// BitcoindDir returns the directory with Bitcoin Core's bitcoind and
// bitcoin-cli: $BNO_BITCOIND_DIR, or ../shared/bitcoind/bin beside the
// repository. The error says what is missing.
func BitcoindDir() (string, error) { return ReleaseDir("") }

// ReleaseDir is BitcoindDir for another release: Core30 or Knots ("" is
// v29.3).
func ReleaseDir(release string) (string, error) {
	where := releaseDirs[release]
	dir := os.Getenv(where[0])
	if dir == "" {
		dir = filepath.Join(envtest.RepoRoot(), "..", "shared", where[1], "bin")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, bin := range []string{"bitcoind", "bitcoin-cli"} {
		fi, err := os.Stat(filepath.Join(dir, bin))
		if err != nil {
			return "", fmt.Errorf("no %s in %s (set %s to its bin directory)", bin, dir, where[0])
		}
		if fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s is not executable", filepath.Join(dir, bin))
		}
	}
	return dir, nil
}

// BitcoindRequired reports whether a missing bitcoind must fail the tests.
func BitcoindRequired() bool { return os.Getenv(EnvRequireBitcoind) == "1" }

// RequireBitcoind returns the bitcoind directory, or ends the test: a
// one-line skip on a machine without Bitcoin Core, a failure where
// BNO_REQUIRE_BITCOIND=1.
func RequireBitcoind(tb testing.TB) string {
	tb.Helper()
	dir, err := BitcoindDir()
	if err == nil {
		return dir
	}
	if BitcoindRequired() {
		tb.Fatalf("real bitcoind required (%s=1): %v", EnvRequireBitcoind, err)
	}
	tb.Skipf("skipping the real-bitcoind tier: %v", err)
	return ""
}

// SkipUnlessCI skips a test that cannot run on this machine, with a
// one-line reason; in CI (CI=true) it fails it instead: there every test
// must run, and a skip would hide that it did not.
func SkipUnlessCI(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("cannot run in CI: "+format, args...)
	}
	tb.Skipf(format, args...)
}

// ReleaseOfImage says which release a node image names: Knots for an image
// whose name says knots, Core30 for a tag starting 30., else "" (v29.3).
func ReleaseOfImage(image string) string {
	name, tag, _ := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	switch {
	case strings.Contains(name, "knots") || strings.Contains(tag, "knots"):
		return Knots
	case strings.HasPrefix(tag, "30."):
		return Core30
	}
	return ""
}

// RequireReleases returns the directories of Bitcoin Core v29.3, v30.0
// and Knots, or ends the test like RequireBitcoind.
func RequireReleases(tb testing.TB) map[string]string {
	tb.Helper()
	dirs := map[string]string{}
	for _, release := range []string{"", Core30, Knots} {
		dir, err := ReleaseDir(release)
		if err != nil {
			if BitcoindRequired() {
				tb.Fatalf("real Bitcoin Core releases required (%s=1): %v", EnvRequireBitcoind, err)
			}
			tb.Skipf("skipping a test of several Bitcoin Core releases: %v", err)
		}
		dirs[release] = dir
	}
	return dirs
}

// Process is a node process started by this package.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

// StartProcess starts bin with args and env, its output appended to
// logPath. The process is killed if the test binary dies.
func StartProcess(bin string, args, env []string, logPath string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", filepath.Base(bin), err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// Alive reports whether the process still runs.
func (p *Process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it.
func (p *Process) Stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Signal sends sig to the process (e.g. SIGSTOP to hang it).
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// LogTail returns the last lines of the process's output, for errors.
func (p *Process) LogTail(lines int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// WarmupGate holds a fresh bitcoind in its RPC warm-up (every call answers
// -28) until Release: bitcoind started on an empty data directory with
// Arg() connects its genesis block only after reading the -loadblock file,
// and that file is a FIFO no one writes to until Release.
type WarmupGate struct {
	path string
	stop chan struct{}
}

// NewWarmupGate creates the FIFO in dir.
func NewWarmupGate(dir string) (*WarmupGate, error) {
	path := filepath.Join(dir, "warmup-gate.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return nil, fmt.Errorf("creating warm-up FIFO: %w", err)
	}
	return &WarmupGate{path: path, stop: make(chan struct{})}, nil
}

// Arg is the bitcoind argument that makes it wait for the gate.
func (g *WarmupGate) Arg() string { return "-loadblock=" + g.path }

// Release lets the node finish its warm-up: once bitcoind opens the FIFO,
// it is closed empty, so bitcoind reads no blocks and goes on. Release
// returns at once; Close stops waiting for a node that never opens it. A
// held node does not shut down on SIGTERM (shutdown waits for the thread
// reading the FIFO): release it before stopping it.
func (g *WarmupGate) Release() {
	go func() {
		for {
			// O_NONBLOCK: open fails with ENXIO until bitcoind opens the
			// FIFO for reading; a blocking open could outlive the test.
			f, err := os.OpenFile(g.path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			if err == nil {
				_ = f.Close()
				return
			}
			if !errors.Is(err, syscall.ENXIO) {
				return
			}
			select {
			case <-g.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
}

// Close stops a pending Release.
func (g *WarmupGate) Close() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
}

// Blackhole returns an address on ip (port 18444) that completes no TCP
// handshake, like a peer whose host stopped answering: a listener with a
// zero backlog whose one queued connection is never accepted, so the
// kernel drops every further SYN and a connect waits for its timeout.
func Blackhole(tb testing.TB, ip string) string {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = syscall.Close(fd) })
	// A node of an earlier test run may have left connections from this
	// address in TIME_WAIT.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		tb.Fatal(err)
	}
	addr := &syscall.SockaddrInet4{Port: 18444}
	copy(addr.Addr[:], net.ParseIP(ip).To4())
	if err := syscall.Bind(fd, addr); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		tb.Fatal(err)
	}
	address := net.JoinHostPort(ip, "18444")
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", address, 300*time.Millisecond)
		if err != nil {
			return address // the queue is full: SYNs go unanswered
		}
		tb.Cleanup(func() { _ = c.Close() })
		if i > 8 {
			tb.Fatal("a zero-backlog listener keeps accepting connections")
		}
	}
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }
