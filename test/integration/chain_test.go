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
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/miner"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// A regtest network asked for 101 initial blocks gets them once, every
// node agrees on them, and the key in the miner Secret spends the first
// coinbase. A node stopped while the others mine is reported out of sync
// and back in sync once it caught up; a node added later syncs to the tip.
func TestARegtestChainWorthTestingOn(t *testing.T) {
	onRealNodes(t, func(t *testing.T, impl v1alpha1.Implementation) {
		ctx := context.Background()
		ns := newNamespace(t)
		n := fixture.CreateNetworkWith(t, k8s, ns, "chain", impl, 4, func(n *v1alpha1.BitcoinNetwork) {
			n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 101}
		})
		waitChain(t, n, 4, 101, 120*time.Second)
		if n.Status.Mining == nil || n.Status.Mining.InitialBlocksHeight != 101 || n.Status.Mining.MinerSecretName != "chain-miner" {
			t.Fatalf("status.mining = %+v", n.Status.Mining)
		}
		for _, node := range n.Status.Nodes {
			agent := map[v1alpha1.Implementation]string{v1alpha1.ImplementationBitcoind: "/Satoshi:29.3.0/", v1alpha1.ImplementationBtcd: "/btcd:0.25.0/"}[impl]
			if node.Headers != 101 || node.UserAgent != agent || (impl == v1alpha1.ImplementationBitcoind && node.InitialBlockDownload == nil) {
				t.Errorf("node %s: headers %d, user agent %q, IBD %v", node.Name, node.Headers, node.UserAgent, node.InitialBlockDownload)
			}
		}

		// The miner Secret's key spends block 1's coinbase.
		secret := &corev1.Secret{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "chain-miner"}, secret); err != nil {
			t.Fatal(err)
		}
		if got := string(secret.Data[resources.SecretKeyMinerAddress]); got != n.Status.Mining.Address {
			t.Fatalf("the Secret's address %s is not the status's %s", got, n.Status.Mining.Address)
		}
		node0 := nodeClient(t, n, n.Status.Nodes[0])
		txid := spendCoinbase(t, node0, &chaincfg.RegressionNetParams, string(secret.Data[resources.SecretKeyMinerPrivateKey]), n.Status.Mining.Address, 1)
		t.Logf("%s: spent block 1's coinbase with the miner Secret's key in %s", impl, txid)
		if impl == v1alpha1.ImplementationBitcoind {
			// Core checks the descriptor's checksum: a wallet can import it.
			var info struct {
				IsSolvable     bool `json:"issolvable"`
				HasPrivateKeys bool `json:"hasprivatekeys"`
			}
			desc := string(secret.Data[resources.SecretKeyMinerDescriptor])
			if err := bitcoin.Call(ctx, node0, "getdescriptorinfo", &info, desc); err != nil || !info.HasPrivateKeys || !info.IsSolvable {
				t.Errorf("Bitcoin Core on the Secret's descriptor: %+v, %v", info, err)
			}
			// The README's way: a wallet that imports the descriptor owns
			// the coins (block 1's coinbase, now in the spend above, and
			// the other matured ones).
			if err := bitcoin.Call(ctx, node0, "createwallet", nil, "miner"); err != nil {
				t.Fatal(err)
			}
			var imported []struct {
				Success bool `json:"success"`
			}
			if err := bitcoin.Call(ctx, node0, "importdescriptors", &imported, []map[string]any{{"desc": desc, "timestamp": 0}}); err != nil || len(imported) != 1 || !imported[0].Success {
				t.Fatalf("importdescriptors: %+v, %v", imported, err)
			}
			var balance float64
			if err := bitcoin.Call(ctx, node0, "getbalance", &balance); err != nil || balance < 49 {
				t.Errorf("the wallet with the Secret's descriptor has %v BTC, %v; want the matured coinbase", balance, err)
			}
		}

		// Stop node 3, mine on node 0, start node 3 again.
		if err := sim.KillNode(ns, "chain-3"); err != nil {
			t.Fatal(err)
		}
		outOfSync := fixture.EventCount(t, k8s, n, "NodesOutOfSync")
		if _, err := node0.Mine(ctx, 5, n.Status.Mining.Address); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if err := sim.RestartNode(ns, "chain-3"); err != nil {
			t.Fatal(err)
		}
		waitChain(t, n, 4, 106, 60*time.Second)

		// A new node syncs to the tip.
		scale(t, n, 5)
		waitChain(t, n, 5, 106, 90*time.Second)
		if n.Status.Mining.InitialBlocksHeight != 101 {
			t.Errorf("the initial blocks' height changed to %d", n.Status.Mining.InitialBlocksHeight)
		}
		// A batch of blocks, a restarted node and a new node catching up
		// are no reason for a warning: they were in sync again within the
		// grace the operator gives them.
		if got := fixture.EventCount(t, k8s, n, "NodesOutOfSync"); got != outOfSync {
			t.Errorf("%d NodesOutOfSync warnings while nodes caught up, want none", got-outOfSync)
		}
	})
}

// waitChain waits until the network has nodes nodes, all at height (in
// status and as the nodes answer), with InSync True and the tip in status.
func waitChain(t *testing.T, n *v1alpha1.BitcoinNetwork, nodes int, height int64, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	eventually(t, timeout, fmt.Sprintf("%d nodes at height %d, in sync", nodes, height), func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != "True" || c.Reason != "AtSameTip" {
			return fmt.Errorf("InSync %+v", c)
		}
		if n.Status.TipHeight != height || len(n.Status.Nodes) != nodes {
			return fmt.Errorf("tip %d, %d nodes", n.Status.TipHeight, len(n.Status.Nodes))
		}
		for _, node := range n.Status.Nodes {
			if node.BlockHeight != height || node.BestBlockHash != n.Status.TipHash {
				return fmt.Errorf("%s at %d (%s) in status", node.Name, node.BlockHeight, node.BestBlockHash)
			}
			got, err := nodeClient(t, n, node).BlockCount(ctx)
			if err != nil || got != height {
				return fmt.Errorf("%s answers height %d, %v", node.Name, got, err)
			}
		}
		return nil
	})
}

// spendCoinbase spends the coinbase of block height to the same key, signed
// with the btcsuite libraries, and has the node accept the transaction.
func spendCoinbase(t *testing.T, node bitcoin.Node, params *chaincfg.Params, wif, address string, height int64) string {
	t.Helper()
	ctx := context.Background()
	key, err := btcutil.DecodeWIF(wif)
	if err != nil {
		t.Fatal(err)
	}
	var blockHash string
	if err := bitcoin.Call(ctx, node, "getblockhash", &blockHash, height); err != nil {
		t.Fatal(err)
	}
	type rawTx struct {
		Txid string `json:"txid"`
		Vout []struct {
			Value        float64 `json:"value"`
			N            uint32  `json:"n"`
			ScriptPubKey struct {
				Hex string `json:"hex"`
			} `json:"scriptPubKey"`
		} `json:"vout"`
	}
	// Core lists the transactions under tx, btcd under rawtx.
	var block struct {
		Tx    []rawTx `json:"tx"`
		RawTx []rawTx `json:"rawtx"`
	}
	if err := bitcoin.Call(ctx, node, "getblock", &block, blockHash, 2); err != nil {
		t.Fatal(err)
	}
	if len(block.RawTx) > 0 {
		block.Tx = block.RawTx
	}
	if len(block.Tx) == 0 || len(block.Tx[0].Vout) == 0 {
		t.Fatalf("block %d has no coinbase output", height)
	}
	coinbase := block.Tx[0]
	out := coinbase.Vout[0]
	script, err := hex.DecodeString(out.ScriptPubKey.Hex)
	if err != nil {
		t.Fatal(err)
	}
	// The Secret says which address of the key the coinbase pays to.
	addr, err := btcutil.DecodeAddress(address, params)
	if err != nil {
		t.Fatal(err)
	}
	own, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(script, own) {
		t.Fatalf("block %d's coinbase pays to %s, not to the miner key's address %s", height, out.ScriptPubKey.Hex, addr)
	}
	amount := int64(math.Round(out.Value * 1e8))
	prev, err := chainhash.NewHashFromStr(coinbase.Txid)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(prev, out.N), nil, nil))
	tx.AddTxOut(wire.NewTxOut(amount-10000, own))
	if _, segwit := addr.(*btcutil.AddressWitnessPubKeyHash); segwit {
		hashes := txscript.NewTxSigHashes(tx, txscript.NewCannedPrevOutputFetcher(script, amount))
		if tx.TxIn[0].Witness, err = txscript.WitnessSignature(tx, hashes, 0, amount, script, txscript.SigHashAll, key.PrivKey, true); err != nil {
			t.Fatal(err)
		}
	} else if tx.TxIn[0].SignatureScript, err = txscript.SignatureScript(tx, 0, script, txscript.SigHashAll, key.PrivKey, true); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := tx.Serialize(&raw); err != nil {
		t.Fatal(err)
	}
	var txid string
	if err := bitcoin.Call(ctx, node, "sendrawtransaction", &txid, hex.EncodeToString(raw.Bytes())); err != nil {
		t.Fatalf("the node refused the spend of block %d's coinbase: %v", height, err)
	}
	return txid
}

// With spec.regtest.blockInterval the chain moves by itself, one block per
// interval, and every node follows.
func TestABlockIntervalKeepsTheChainMoving(t *testing.T) {
	ns := newNamespace(t)
	n := fixture.CreateNetworkWith(t, k8s, ns, "ticker", v1alpha1.ImplementationBtcd, 2, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{BlockInterval: &metav1.Duration{Duration: time.Second}}
	})
	waitConnected(t, n, 90*time.Second)
	var start int64
	var startTime time.Time
	eventually(t, 20*time.Second, "blocks mined", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if n.Status.Mining == nil || n.Status.Mining.LastBlockTime == nil || n.Status.TipHeight == 0 {
			return fmt.Errorf("status.mining %+v, tip %d", n.Status.Mining, n.Status.TipHeight)
		}
		start, startTime = n.Status.TipHeight, time.Now()
		return nil
	})
	time.Sleep(5 * time.Second)
	eventually(t, 20*time.Second, "the chain moved and both nodes follow", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != "True" {
			return fmt.Errorf("InSync %+v", c)
		}
		if n.Status.TipHeight < start+3 {
			return fmt.Errorf("tip %d, was %d", n.Status.TipHeight, start)
		}
		return nil
	})
	// One block per interval, not more: a pass every second or so mines at
	// most one (the bound allows for passes that run late, not early).
	if elapsed := time.Since(startTime); n.Status.TipHeight-start > int64(elapsed/time.Second)+1 {
		t.Errorf("%d blocks in %v with a 1s interval", n.Status.TipHeight-start, elapsed)
	}
}

// With topology none the operator still reads every node's chain: two
// nodes nobody connected, each mining its own block, are on different
// chains, and InSync says so, naming both tips. Once the user connects
// them, the shorter side takes the other's chain and InSync is True.
func TestTopologyNoneStillTellsAForkApart(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := fixture.CreateNetworkWith(t, k8s, ns, "apart", v1alpha1.ImplementationBitcoind, 2, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Topology = v1alpha1.TopologyNone
	})
	eventually(t, 90*time.Second, "2 ready nodes", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if n.Status.ReadyNodes != 2 || len(n.Status.Nodes) != 2 {
			return fmt.Errorf("%d ready", n.Status.ReadyNodes)
		}
		return nil
	})
	a, b := nodeClient(t, n, n.Status.Nodes[0]), nodeClient(t, n, n.Status.Nodes[1])
	var hashes [2][]string
	for i, c := range []bitcoin.Node{a, b} {
		key, err := miner.NewKey(miner.P2WPKH) // another address each: another block
		if err != nil {
			t.Fatal(err)
		}
		if hashes[i], err = c.Mine(ctx, 1, key.Address); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "InSync False: forked", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != status.ReasonForked || c.ObservedGeneration != n.Generation ||
			!strings.Contains(c.Message, status.ShortHash(hashes[0][0])) || !strings.Contains(c.Message, status.ShortHash(hashes[1][0])) {
			return fmt.Errorf("InSync = %+v, want Forked naming %s and %s", c, hashes[0][0], hashes[1][0])
		}
		if n.Status.TipHeight != 1 {
			return fmt.Errorf("tip height %d, want 1", n.Status.TipHeight)
		}
		return nil
	})
	// The user connects them; one more block on a makes its chain the one
	// with most work, and b takes it.
	if _, err := a.Mine(ctx, 1, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"); err != nil {
		t.Fatal(err)
	}
	if err := b.ConnectOnce(ctx, p2pAddress(n, n.Status.Nodes[0].IP)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "InSync True at height 2", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(n.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue || n.Status.TipHeight != 2 {
			return fmt.Errorf("InSync = %+v, tip %d", c, n.Status.TipHeight)
		}
		return nil
	})
	if got := fixture.EventCount(t, k8s, n, "NodesOutOfSync"); got != 1 {
		t.Errorf("%d NodesOutOfSync warnings, want 1 (the fork)", got)
	}
}
