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

// Package netstate is what the operator keeps in memory about each
// BitcoinNetwork between reconciles: the one thing the object controller
// (controllers/objects) and the node controller (controllers/nodes) share,
// with the few reads and signals both use (shared.go).
//
// State belongs to a network's UID, not its name: a network deleted and
// created again under the same name starts from nothing. Once a network is
// forgotten, its state takes no more writes (a pass still running when the
// network was deleted writes nowhere), and nor do its metrics, whose
// writers go through Network.Update.
package netstate

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/peering"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/signet"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// Store holds the state of every network the operator reconciles.
type Store struct {
	mu    sync.Mutex
	byUID map[types.UID]*Network
	uidOf map[types.NamespacedName]types.UID
}

// Network is the state of one network (one UID).
type Network struct {
	Key types.NamespacedName
	UID types.UID

	mu   sync.Mutex
	gone bool
	data Data
}

// Data is a network's state. Its fields are read and written only inside
// Network.Update.
type Data struct {
	// Access is how to reach the nodes, published by the object
	// controller once it has the credentials; AccessKey tells a change.
	Access    *Access
	AccessKey string
	// Result is the node controller's last pass.
	Result *Result
	// Repaired accumulates, per node, repairs no status write has reported
	// yet (the PeersRepaired event).
	Repaired map[string]int
	// Pass is what passes carry over to the next one.
	Pass PassMemory
	// Mining is what the operator mined and how its last call ended.
	Mining Mining
	// Applied holds, per object ("Kind/name"), the last apply request and
	// the resourceVersion it returned (the object controller's apply cache).
	Applied map[string]AppliedRequest
	// Scaled is, per StatefulSet name, the generation (and UID) the last
	// Created or Scaled event was recorded for.
	Scaled map[string]ScaledRecord
	// Transports are the nodes' HTTP transports, by pod and CA.
	Transports map[string]*http.Transport
	// Faults is what the node controller did and saw of the network's
	// faults (BitcoinNetworkFault), for the fault controller.
	Faults FaultMemory
}

// FaultMemory is what passes saw of a network's faults.
type FaultMemory struct {
	// Enforced is the fault the last pass enforced ("" for none).
	Enforced types.UID
	// CleanAt is the start of the last pass that enforced no fault and
	// left every ready node without a ban of the network's addresses.
	CleanAt time.Time
	// OneTipAt is the start of the last pass that saw every ready node at
	// one tip.
	OneTipAt time.Time
	// Reorgs are, by fault and node, the reorganisations nodes reported
	// after the fault was healed.
	Reorgs map[types.UID]map[string]v1alpha1.NodeReorgStatus
	// ReorgBase is, by reorg fault, the height its sides mine from, as a
	// pass found it once the split held (the fault controller keeps it in
	// the fault's status); ReorgMined marks the reorg faults whose sides
	// have their blocks.
	ReorgBase  map[types.UID]int64
	ReorgMined map[types.UID]bool
	// ReorgLooks are, by "fault/side", the last look at a side's miner:
	// a side mines only after two equal looks (see nodes.settle).
	ReorgLooks map[string]Look
}

// Access is what the operator needs to call a network's nodes.
type Access struct {
	Credentials resources.Credentials
	// CAPEM is the network's CA certificate (btcd), nil for bitcoind.
	CAPEM []byte
	// MiningAddress is where a regtest network's blocks go (spec.regtest),
	// or a private signet's (spec.signet).
	MiningAddress string
	// Signet is a private signet's signing key; nil elsewhere, and when a
	// challenge of the user's own names no key.
	Signet *signet.Key
}

// Result is the outcome of a node controller pass.
type Result struct {
	// Generation is the spec generation the pass ran on, and Plan the
	// peer plan it checked (see PlanKey): a result stays valid for later
	// generations with the same plan.
	Generation int64
	Plan       string
	// Status is what the pass saw; nil when it failed before observing.
	Status *status.Peering
	// Err says why the pass failed, if it did.
	Err string
}

// PassMemory is what a pass leaves for the next one.
type PassMemory struct {
	// Record is the network's addresses that may still be listed on a
	// node (see peering.Report.Record).
	Record []string
	// Listed are, per node, the network addresses it listed as added peers
	// when it last answered: the record keeps them while it is silent.
	Listed map[string][]string
	// Suspects are pods whose last observation timed out; Probing those
	// being probed in the background.
	Suspects, Probing map[string]bool
	Progress          peering.Progress
	// Versions holds each node process's user agent, by "pod/IP" (asked
	// once per process, not every pass).
	Versions map[string]string
	// SyncSince is when the nodes were first seen to differ, and Heights
	// each node's height at the last pass (to tell progress).
	SyncSince time.Time
	Heights   map[string]int64
}

// Mining is what the operator mined on a network, and whether a mining
// call may still be running on a node.
type Mining struct {
	status.Mining
	// Settled is false until the miner's height was seen unchanged over
	// two looks SettleLook apart: at the start (a call by an earlier
	// operator process may still run) and after a call that failed or was
	// cancelled (Bitcoin Core goes on mining after the client gives up).
	Settled bool
	// Look is the last look at the miner while not settled.
	Look Look
}

// Look is one look at a node's chain.
type Look struct {
	Node   string
	Height int64
	At     time.Time
}

// ScaledRecord is a StatefulSet generation an event was recorded for.
type ScaledRecord struct {
	UID        types.UID
	Generation int64
}

// AppliedRequest is the hash of an apply request and the resourceVersion
// the API server answered it with.
type AppliedRequest struct {
	Hash            [32]byte
	ResourceVersion string
}

// PlanKey identifies the peer plan of a spec (topology and group sizes): a
// pass's result tells the truth about later generations of the same plan.
func PlanKey(n *v1alpha1.BitcoinNetwork) string {
	key := string(n.Spec.Topology)
	for _, g := range resources.Groups(n) {
		key += "/" + g.Name + ":" + strconv.Itoa(int(g.Nodes))
	}
	return key
}

// Track returns the state of the network with this name and UID, creating
// it. A UID new for the name (the network was deleted and created again)
// forgets the earlier network's state first.
func (s *Store) Track(key types.NamespacedName, uid types.UID) *Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byUID == nil {
		s.byUID, s.uidOf = map[types.UID]*Network{}, map[types.NamespacedName]types.UID{}
	}
	if old, ok := s.uidOf[key]; ok && old != uid {
		s.forgetLocked(key)
	}
	n, ok := s.byUID[uid]
	if !ok {
		n = &Network{Key: key, UID: uid}
		n.data = Data{Repaired: map[string]int{}, Applied: map[string]AppliedRequest{}, Transports: map[string]*http.Transport{}, Scaled: map[string]ScaledRecord{},
			Pass: PassMemory{Listed: map[string][]string{}, Suspects: map[string]bool{}, Probing: map[string]bool{},
				Versions: map[string]string{}, Heights: map[string]int64{}}}
		s.byUID[uid] = n
		s.uidOf[key] = uid
	}
	return n
}

// Get returns the state of the network with this UID; nil when it is not
// tracked (not reconciled yet, or gone).
func (s *Store) Get(uid types.UID) *Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byUID[uid]
}

// Forget forgets the network that had this name: its state takes no more
// writes, its metrics are dropped and its connections closed.
func (s *Store) Forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(key)
}

func (s *Store) forgetLocked(key types.NamespacedName) {
	uid, ok := s.uidOf[key]
	if !ok {
		return
	}
	n := s.byUID[uid]
	delete(s.byUID, uid)
	delete(s.uidOf, key)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gone = true
	for _, t := range n.data.Transports {
		t.CloseIdleConnections()
	}
	n.data = Data{}
	metrics.Forget(key.Namespace, key.Name)
}

// Update runs f on the network's state, unless the network is gone; it
// reports whether f ran. Metrics of the network are written inside f too,
// so that none is written after the network is forgotten.
func (n *Network) Update(f func(*Data)) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.gone {
		return false
	}
	f(&n.data)
	return true
}

// Gone reports whether the network was forgotten.
func (n *Network) Gone() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gone
}
