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
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/signet"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// A private signet of three real Bitcoin Core nodes: the operator makes a
// key, configures the nodes with its challenge, signs and grinds the
// initial blocks and then one per interval; every node is at one tip. A
// Core node the test starts itself, with only the challenge and one
// node's address, syncs the whole chain, checking each block's signature
// and work.
func TestAPrivateSignetMakesSignedBlocksThatAnOutsideNodeAccepts(t *testing.T) {
	dir := realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetworkWith(t, k8s, ns, "private", v1alpha1.ImplementationBitcoind, 3, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Chain = v1alpha1.ChainSignet
		// The default 101 initial blocks: the first coinbase spendable.
		n.Spec.Signet = &v1alpha1.SignetSpec{BlockInterval: &metav1.Duration{Duration: 2 * time.Second}}
	})
	// 101 blocks ground by the operator: under a minute on an idle machine
	// (BenchmarkGrindAtTheSignetPowLimit), minutes when make test's other
	// packages share the two cores.
	eventually(t, 12*time.Minute, "the signet Ready, InSync, past its initial blocks", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if err := fixture.ReadyAndConnected(n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue || n.Status.TipHeight < 104 {
			return fmt.Errorf("InSync %+v at %d, mining %+v", c, n.Status.TipHeight, n.Status.Mining)
		}
		return nil
	})
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "private-signet"}, secret); err != nil {
		t.Fatal(err)
	}
	challenge := string(secret.Data[resources.SecretKeySignetChallenge])
	if n.Status.Mining == nil || n.Status.Mining.Address != string(secret.Data[resources.SecretKeySignetAddress]) || n.Status.Mining.InitialBlocksHeight != 101 {
		t.Errorf("status.mining %+v, want the Secret's address and initial blocks complete at 101", n.Status.Mining)
	}
	// The status shows the chain's difficulty: a signet's first 2016 blocks
	// are at its start target, bits 1e0377ae.
	if d, err := strconv.ParseFloat(n.Status.TipDifficulty, 64); err != nil || d < 0.0010 || d > 0.0012 {
		t.Errorf("status.tipDifficulty %q (%v), want about 0.001127", n.Status.TipDifficulty, err)
	}
	// The Secret's key spends the first coinbase (signed with btcsuite).
	node0 := n.Status.Nodes[0]
	c0 := nodeClient(t, n, node0)
	txid := spendCoinbase(t, c0, &chaincfg.SigNetParams, string(secret.Data[resources.SecretKeySignetPrivateKey]), string(secret.Data[resources.SecretKeySignetAddress]), 1)
	t.Logf("block 1's coinbase spent by %s", txid)

	// A block signed with another key: the network's node refuses it.
	stranger, err := signet.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	own, _ := hex.DecodeString(challenge)
	if _, err := signet.Produce(ctx, c0, stranger.Payout, own, stranger.Priv); err == nil || !strings.Contains(err.Error(), "bad-signet-blksig") {
		t.Errorf("a block signed with another key: %v, want bad-signet-blksig", err)
	}
	// Blocks keep coming, and never faster than the interval: three more
	// within a bounded wait (under load grinding may take longer than the
	// interval), and at most one more than the interval allows. Heights
	// are node 0's, read over RPC: the status is a pass behind.
	first, err := c0.BlockCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start, height := time.Now(), first
	eventually(t, 2*time.Minute, "three more blocks", func() error {
		if height, err = c0.BlockCount(ctx); err != nil {
			return err
		}
		if height < first+3 {
			return fmt.Errorf("at %d, want %d", height, first+3)
		}
		return nil
	})
	took := time.Since(start)
	if made, most := height-first, int64(took/(2*time.Second))+2; made > most {
		t.Errorf("%d blocks in %v at an interval of 2 s, want at most %d", made, took.Round(time.Second), most)
	}
	t.Logf("height %d → %d in %v (interval 2 s)", first, height, took.Round(100*time.Millisecond))

	// A node outside the operator's care, with the challenge alone.
	ports := resources.PortsFor(v1alpha1.ImplementationBitcoind, v1alpha1.ChainSignet)
	outside := realnode.StartBitcoind(t, dir, realnode.BitcoindOptions{IP: "127.104.0.2", Chain: "signet", Config: []string{
		"signetchallenge=" + challenge, "addnode=" + net.JoinHostPort(node0.IP, fmt.Sprint(ports.P2P)),
	}})
	c := outside.Client(5 * time.Second)
	eventually(t, 2*time.Minute, "the outside node at the network's tip", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		info, err := c.ChainInfo(ctx)
		if err != nil {
			return err
		}
		if info.Blocks < 104 || info.BestBlockHash != n.Status.TipHash && info.Blocks == n.Status.TipHeight {
			return fmt.Errorf("outside node at %d (%s), network at %d (%s)", info.Blocks, info.BestBlockHash, n.Status.TipHeight, n.Status.TipHash)
		}
		if info.Blocks < n.Status.TipHeight-1 {
			return fmt.Errorf("outside node at %d, network at %d", info.Blocks, n.Status.TipHeight)
		}
		return nil
	})
}
