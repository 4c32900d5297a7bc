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

package realnode

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
)

// Regtest ports of bitcoind.
const (
	BitcoindRPCPort = 18443
	BitcoindP2PPort = 18444
)

// Bitcoind is a regtest bitcoind on its own loopback IP.
type Bitcoind struct {
	IP       string
	DataDir  string
	User     string
	Password string
	Process  *Process
	Gate     *WarmupGate
}

// BitcoindOptions say how to start a Bitcoind.
type BitcoindOptions struct {
	// IP is the loopback address it binds, e.g. 127.100.0.2.
	IP string
	// Config are extra bitcoin.conf lines for the [regtest] section.
	Config []string
	// HoldWarmup keeps its RPC answering -28 until Gate.Release.
	HoldWarmup bool
	// Chain is "signet" for a signet node (which MapBitcoindConfig keeps
	// from dialling out); regtest otherwise.
	Chain string
}

// StartBitcoind starts a regtest bitcoind with rpcauth credentials and
// waits until its RPC port accepts connections (with HoldWarmup, calls
// then answer -28). It is stopped when the test ends.
func StartBitcoind(tb testing.TB, dir string, opts BitcoindOptions) *Bitcoind {
	tb.Helper()
	b := &Bitcoind{IP: opts.IP, DataDir: tb.TempDir(), User: "contract", Password: "contract-password"}
	chain := "regtest"
	if opts.Chain == "signet" {
		chain = "signet"
	}
	conf := []string{
		chain + "=1", "[" + chain + "]", "server=1", "listen=1", "printtoconsole=1",
		fmt.Sprintf("port=%d", BitcoindP2PPort), fmt.Sprintf("rpcport=%d", BitcoindRPCPort),
		"rpcbind=::", "rpcbind=0.0.0.0", "rpcallowip=0.0.0.0/0", "rpcallowip=::/0",
		"rpcauth=" + rpcauth.Value(b.User, "0123456789abcdef", b.Password),
	}
	conf = append(conf, opts.Config...)
	mapped, err := MapBitcoindConfig(strings.Join(conf, "\n")+"\n", b.IP)
	if err != nil {
		tb.Fatal(err)
	}
	confPath := filepath.Join(b.DataDir, "bitcoin.conf")
	if err := os.WriteFile(confPath, []byte(mapped), 0o600); err != nil {
		tb.Fatal(err)
	}
	args := []string{"-conf=" + confPath, "-datadir=" + b.DataDir}
	if opts.HoldWarmup {
		if b.Gate, err = NewWarmupGate(b.DataDir); err != nil {
			tb.Fatal(err)
		}
		args = append(args, b.Gate.Arg())
	}
	if b.Process, err = StartProcess(filepath.Join(dir, "bitcoind"), args, []string{"HOME=" + b.DataDir}, filepath.Join(b.DataDir, "bitcoind.out")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if b.Gate != nil {
			// A node held in its warm-up cannot shut down: let it go first.
			b.Gate.Release()
			defer b.Gate.Close()
		}
		b.Process.Stop(10 * time.Second)
	})
	if err := WaitListening(b.Process, b.RPCAddress(), 30*time.Second); err != nil {
		tb.Fatal(err)
	}
	return b
}

// RPCAddress is host:port of its RPC server.
func (b *Bitcoind) RPCAddress() string {
	return net.JoinHostPort(b.IP, fmt.Sprint(BitcoindRPCPort))
}

// P2PAddress is host:port its peers connect to.
func (b *Bitcoind) P2PAddress() string {
	return net.JoinHostPort(b.IP, fmt.Sprint(BitcoindP2PPort))
}

// Client returns an RPC client with the node's credentials.
func (b *Bitcoind) Client(timeout time.Duration) bitcoin.Node {
	return bitcoin.New(bitcoin.Bitcoind, bitcoin.Endpoint{Address: b.RPCAddress(), User: b.User, Password: b.Password},
		bitcoin.Transport(nil), timeout)
}

// WaitListening waits until address accepts TCP connections, failing early
// (with the process's last log lines) if the process exits.
func WaitListening(p *Process, address string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", address, 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		if !p.Alive() {
			return fmt.Errorf("node exited before listening on %s:\n%s", address, p.LogTail(20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s:\n%s", address, timeout, p.LogTail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
