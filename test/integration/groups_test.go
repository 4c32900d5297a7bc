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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// The images the pod simulator maps to the releases in ../shared (see
// realnode.ReleaseOfImage).
const (
	imageCore29 = "bitcoind:29.3"
	imageCore30 = "bitcoind:30.0"
	imageKnots  = "knots:29.3.knots20260210"
)

// mixedGroups are two nodes each of Bitcoin Core v29.3 and v30.0, Knots and
// btcd.
func mixedGroups() []v1alpha1.NodeGroup {
	return []v1alpha1.NodeGroup{
		{Name: "core29", Nodes: 2, Image: imageCore29},
		{Name: "core30", Nodes: 2, Image: imageCore30},
		{Name: "knots", Nodes: 2, Implementation: v1alpha1.ImplementationKnots, Image: imageKnots},
		{Name: "btcd", Nodes: 2, Implementation: v1alpha1.ImplementationBtcd},
	}
}

func createGroups(t *testing.T, ns, name string, groups []v1alpha1.NodeGroup, edit func(*v1alpha1.BitcoinNetwork)) *v1alpha1.BitcoinNetwork {
	t.Helper()
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	n.Spec.Topology, n.Spec.Groups = v1alpha1.TopologyMesh, groups
	if edit != nil {
		edit(n)
	}
	if err := k8s.Create(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return n
}

// nodesOf are the status's nodes of one group.
func nodesOf(n *v1alpha1.BitcoinNetwork, group string) []v1alpha1.NodeStatus {
	var out []v1alpha1.NodeStatus
	for _, node := range n.Status.Nodes {
		if node.Group == group {
			out = append(out, node)
		}
	}
	return out
}

// One network of Bitcoin Core v29.3 and v30.0, Knots and btcd: connected
// across groups, the initial blocks on every node, each node's version in
// the status. Then where their relay policies part, seen through the
// operator's status: a 100-byte OP_RETURN is standard on v30.0 only, a
// 0.5 sat/vB fee is enough for Core and not for Knots (or btcd); the
// mempools differ accordingly, and once a v30.0 node mines both, every
// node takes the block.
func TestAMixedNetworkOfFourImplementations(t *testing.T) {
	realnode.RequireReleases(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := createGroups(t, ns, "mixed", mixedGroups(), func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 101}
	})
	waitChain(t, n, 8, 101, 180*time.Second)
	agents := map[string]string{"core29": "/Satoshi:29.3.0/", "core30": "/Satoshi:30.0.0/", "knots": "/Satoshi:29.3.0/Knots:20260210/", "btcd": "/btcd:0.25.0/"}
	for _, g := range n.Status.Groups {
		if g.ReadyNodes != 2 || !slices.Equal(g.UserAgents, []string{agents[g.Name]}) {
			t.Errorf("group %s: %d ready, user agents %v; want 2 and %s", g.Name, g.ReadyNodes, g.UserAgents, agents[g.Name])
		}
	}
	for _, node := range n.Status.Nodes {
		if node.UserAgent != agents[node.Group] || node.ExpectedPeers != 7 || node.Peers != 7 {
			t.Errorf("node %s (%s): %s, %d of %d peers", node.Name, node.Group, node.UserAgent, node.Peers, node.ExpectedPeers)
		}
	}
	if n.Status.Mining == nil || n.Status.Mining.Node != "mixed-core29-0" {
		t.Errorf("status.mining %+v, want the first group's node 0 mining", n.Status.Mining)
	}

	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "mixed-miner"}, secret); err != nil {
		t.Fatal(err)
	}
	wif, address := string(secret.Data[resources.SecretKeyMinerPrivateKey]), string(secret.Data[resources.SecretKeyMinerAddress])
	core30 := nodeClient(t, n, nodesOf(n, "core30")[0])
	opReturn := signedSpend(t, core30, wif, address, 1, spendOptions{data: bytes.Repeat([]byte{0x42}, 100), feeRate: 2})
	lowFee := signedSpend(t, core30, wif, address, 2, spendOptions{feeRate: 0.5})

	// Each implementation's verdict, before anything is relayed.
	verdicts := map[string][2]string{}
	for _, g := range []string{"core29", "core30", "knots", "btcd"} {
		c := nodeClient(t, n, nodesOf(n, g)[0])
		verdicts[g] = [2]string{mempoolVerdict(t, c, opReturn), mempoolVerdict(t, c, lowFee)}
		t.Logf("%s: 100-byte OP_RETURN: %s; 0.5 sat/vB: %s", g, verdicts[g][0], verdicts[g][1])
	}
	for g, want := range map[string][2]bool{"core29": {false, true}, "core30": {true, true}, "knots": {false, false}} {
		for i, what := range []string{"the 100-byte OP_RETURN", "the 0.5 sat/vB spend"} {
			if (verdicts[g][i] == "accepted") != want[i] {
				t.Errorf("%s on %s: %s", g, what, verdicts[g][i])
			}
		}
	}

	// Sent to a v30.0 node: relayed where policy allows, seen in status.
	for _, tx := range []string{opReturn, lowFee} {
		if err := bitcoin.Call(ctx, core30, "sendrawtransaction", nil, tx); err != nil {
			t.Fatalf("v30.0 refused a transaction it accepted in testmempoolaccept: %v", err)
		}
	}
	// Each mempool takes what its node's policy accepted (btcd's regtest
	// relays non-standard transactions, and an old coin's spend below its
	// minimum fee as a high-priority one: it takes both).
	wantMempool := map[string]int64{}
	for g, v := range verdicts {
		for _, verdict := range v {
			if verdict == "accepted" {
				wantMempool[g]++
			}
		}
	}
	eventually(t, 90*time.Second, "mempools part by policy, in status", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		for _, node := range n.Status.Nodes {
			if node.MempoolTransactions == nil || *node.MempoolTransactions != wantMempool[node.Group] {
				return fmt.Errorf("%s (%s): mempool %s, want %d", node.Name, node.Group, mempool(node), wantMempool[node.Group])
			}
		}
		return nil
	})
	// A v30.0 node mines both: every node takes the block.
	var hashes []string
	if err := bitcoin.Call(ctx, core30, "generatetoaddress", &hashes, 1, address); err != nil {
		t.Fatal(err)
	}
	var block struct {
		Tx []string `json:"tx"`
	}
	if err := bitcoin.Call(ctx, core30, "getblock", &block, hashes[0], 1); err != nil || len(block.Tx) != 3 {
		t.Fatalf("the v30.0 node's block holds %d transactions (%v), want the coinbase and both spends", len(block.Tx), err)
	}
	waitChain(t, n, 8, 102, 60*time.Second)
	eventually(t, 30*time.Second, "empty mempools", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		for _, node := range n.Status.Nodes {
			if node.MempoolTransactions == nil || *node.MempoolTransactions != 0 {
				return fmt.Errorf("%s: mempool %s", node.Name, mempool(node))
			}
		}
		return nil
	})
}

// spendOptions shape a spend of a coinbase.
type spendOptions struct {
	// data, when set, goes into an OP_RETURN output.
	data []byte
	// feeRate is in sat/vB.
	feeRate float64
}

// signedSpend builds and signs (btcsuite) a transaction spending the
// coinbase of the block at height, paid to the miner key's address,
// back to that address; it returns the transaction in hex.
func signedSpend(t *testing.T, node bitcoin.Node, wif, address string, height int64, o spendOptions) string {
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
	var block struct {
		Tx []struct {
			Txid string `json:"txid"`
			Vout []struct {
				Value float64 `json:"value"`
			} `json:"vout"`
		} `json:"tx"`
	}
	if err := bitcoin.Call(ctx, node, "getblock", &block, blockHash, 2); err != nil || len(block.Tx) == 0 {
		t.Fatalf("block %d: %v", height, err)
	}
	addr, err := btcutil.DecodeAddress(address, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	own, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	amount := int64(math.Round(block.Tx[0].Vout[0].Value * 1e8))
	prev, err := chainhash.NewHashFromStr(block.Tx[0].Txid)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(prev, 0), nil, nil))
	tx.AddTxOut(wire.NewTxOut(amount, own))
	if o.data != nil {
		script, err := txscript.NullDataScript(o.data)
		if err != nil {
			// btcsuite refuses data over 80 bytes; build the script itself.
			script, err = txscript.NewScriptBuilder().AddOp(txscript.OP_RETURN).AddFullData(o.data).Script()
			if err != nil {
				t.Fatal(err)
			}
		}
		tx.AddTxOut(wire.NewTxOut(0, script))
	}
	sign := func() {
		if tx.TxIn[0].SignatureScript, err = txscript.SignatureScript(tx, 0, own, txscript.SigHashAll, key.PrivKey, true); err != nil {
			t.Fatal(err)
		}
	}
	// The fee from the signed size (a signature's size varies by a byte).
	sign()
	fee := int64(math.Ceil(o.feeRate * float64(tx.SerializeSize())))
	tx.TxOut[0].Value = amount - fee - 1
	sign()
	var raw bytes.Buffer
	if err := tx.Serialize(&raw); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw.Bytes())
}

// mempool is a node's mempool size in status, for messages.
func mempool(node v1alpha1.NodeStatus) string {
	if node.MempoolTransactions == nil {
		return "unknown"
	}
	return fmt.Sprint(*node.MempoolTransactions)
}

// mempoolVerdict is what a node's mempool says of a transaction:
// "accepted", or the reject reason (testmempoolaccept, whose maximum fee
// rate btcd needs said).
func mempoolVerdict(t *testing.T, node bitcoin.Node, tx string) string {
	t.Helper()
	var results []struct {
		Allowed      bool   `json:"allowed"`
		RejectReason string `json:"reject-reason"`
	}
	if err := bitcoin.Call(context.Background(), node, "testmempoolaccept", &results, []string{tx}, 0.1); err != nil {
		t.Fatalf("testmempoolaccept: %v", err)
	}
	if len(results) != 1 {
		t.Fatalf("testmempoolaccept: %d results", len(results))
	}
	if results[0].Allowed {
		return "accepted"
	}
	return results[0].RejectReason
}

// The rolling upgrade: a group of Bitcoin Core v29.3 nodes with storage is
// changed to v30.0. Its nodes restart on their own data (the chain is
// kept), rejoin, and the network is Ready and in sync again; no other
// group's node restarts.
func TestARollingUpgradeInPlaceWithStorage(t *testing.T) {
	realnode.RequireReleases(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := createGroups(t, ns, "upgrade", []v1alpha1.NodeGroup{
		{Name: "old", Nodes: 2, Image: imageCore29},
		{Name: "other", Nodes: 2, Image: imageCore30},
	}, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 20}
		n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
	})
	waitChain(t, n, 4, 20, 120*time.Second)
	pods := func() map[string]types.UID {
		list := &corev1.PodList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		out := map[string]types.UID{}
		for _, p := range list.Items {
			out[p.Name] = p.UID
		}
		return out
	}
	before := pods()
	updateGroups(t, n, func(groups []v1alpha1.NodeGroup) { groups[0].Image = imageCore30 })
	eventually(t, 120*time.Second, "the old group on v30.0, Ready and in sync at 20", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		ready := conditionOf(n, v1alpha1.ConditionReady)
		inSync := conditionOf(n, v1alpha1.ConditionInSync)
		if ready != "True" || inSync != "True" || n.Status.TipHeight != 20 {
			return fmt.Errorf("Ready %s, InSync %s, tip %d", ready, inSync, n.Status.TipHeight)
		}
		for _, node := range nodesOf(n, "old") {
			if node.UserAgent != "/Satoshi:30.0.0/" {
				return fmt.Errorf("%s runs %s", node.Name, node.UserAgent)
			}
		}
		return nil
	})
	after := pods()
	for name, uid := range before {
		replaced := after[name] != uid
		if old := strings.HasPrefix(name, "upgrade-old-"); old != replaced {
			t.Errorf("pod %s replaced: %v, want %v (only the upgraded group restarts)", name, replaced, old)
		}
	}
	// Their chains survived the restart: 20 blocks, not mined again.
	if n.Status.Mining == nil || n.Status.Mining.InitialBlocksHeight != 20 {
		t.Errorf("status.mining %+v", n.Status.Mining)
	}
}

// conditionOf is a condition's status at the current generation.
func conditionOf(n *v1alpha1.BitcoinNetwork, condType string) metav1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == condType && c.ObservedGeneration == n.Generation {
			return c.Status
		}
	}
	return ""
}

func updateGroups(t *testing.T, n *v1alpha1.BitcoinNetwork, change func([]v1alpha1.NodeGroup)) {
	t.Helper()
	eventually(t, 10*time.Second, "updating the groups", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		change(n.Spec.Groups)
		return k8s.Update(context.Background(), n)
	})
}

// connections are, per node of the network, the network addresses of its
// live connections (outbound ones by address; inbound ones show a source
// port, and are seen from the other end).
func connections(t *testing.T, n *v1alpha1.BitcoinNetwork) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, node := range n.Status.Nodes {
		peers, err := nodeClient(t, n, node).Peers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range peers {
			if !p.Inbound {
				out[node.Name] = append(out[node.Name], p.Address)
			}
		}
		slices.Sort(out[node.Name])
	}
	return out
}

// Scaling one group up and down changes no connection between the nodes of
// the other groups (counted over RPC), in a mesh beyond the full one.
func TestScalingOneGroupLeavesTheOthersConnectionsAlone(t *testing.T) {
	// Bitcoin Core: btcd now and then drops and remakes a connection by
	// itself, which would count as a change.
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	n := createGroups(t, ns, "scaled", []v1alpha1.NodeGroup{{Name: "a", Nodes: 8}, {Name: "b", Nodes: 8}, {Name: "c", Nodes: 4}}, nil)
	waitConnected(t, n, 120*time.Second)
	others := func(conns map[string][]string) map[string][]string {
		ips := map[string]bool{}
		for _, node := range n.Status.Nodes {
			if node.Group != "c" {
				ips[node.IP] = true
			}
		}
		out := map[string][]string{}
		for name, addrs := range conns {
			if strings.HasPrefix(name, "scaled-c-") {
				continue
			}
			for _, a := range addrs {
				if ip, _, _ := strings.Cut(a, ":"); ips[ip] {
					out[name] = append(out[name], a)
				}
			}
		}
		return out
	}
	before := others(connections(t, n))
	for _, size := range []int32{7, 2} {
		updateGroups(t, n, func(groups []v1alpha1.NodeGroup) { groups[2].Nodes = size })
		waitConnected(t, n, 120*time.Second)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(n), n); err != nil {
			t.Fatal(err)
		}
		after := others(connections(t, n))
		for name, addrs := range before {
			if !slices.Equal(addrs, after[name]) {
				t.Errorf("group c scaled to %d: %s's connections within groups a and b went from %v to %v", size, name, addrs, after[name])
			}
		}
	}
}
