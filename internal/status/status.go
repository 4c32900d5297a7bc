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

// Package status computes a BitcoinNetwork's status from what the operator
// observed. It is pure: the controller gathers the inputs and writes the
// result.
package status

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

// Condition reasons.
const (
	ReasonAllNodesReady     = "AllNodesReady"
	ReasonNodesNotReady     = "NodesNotReady"
	ReasonScaledToZero      = "ScaledToZero"
	ReasonScaling           = "Scaling"
	ReasonRollingOut        = "RollingOut"
	ReasonNodesStarting     = "NodesStarting"
	ReasonStable            = "Stable"
	ReasonReconciled        = "Reconciled"
	ReasonBlocked           = "Blocked"
	ReasonRPCSecretNotFound = "RPCSecretNotFound"
	ReasonRPCSecretInvalid  = "RPCSecretInvalid"
	ReasonImageNotSet       = "ImageNotSet"
	ReasonConfigInvalid     = "ConfigInvalid"
	ReasonMiningAddress     = "MiningAddressInvalid"
	ReasonSignetKey         = "SignetKeyInvalid"
	ReasonSignetChallenge   = "SignetChallengeInvalid"
	ReasonApplyFailed       = "ApplyFailed"
	ReasonSecretNotOwned    = "SecretNotOwned"
	ReasonSecretInvalid     = "SecretInvalid"
	ReasonPeersNotConnected = "PeersNotConnected"
	ReasonPeerCheckFailed   = "PeerCheckFailed"
	ReasonChecking          = "Checking"

	ReasonAllPeersConnected = "AllPeersConnected"
	ReasonConnecting        = "Connecting"
	ReasonWaitingForNodes   = "WaitingForNodes"
	ReasonTopologyNone      = "TopologyNone"
	ReasonNoNodes           = "NoNodes"
)

// Peering is what the operator saw and did on the nodes' peer network.
type Peering struct {
	// Nodes by pod name; nodes missing here were not called (not ready).
	Nodes map[string]NodePeering
	// PlannedEdges are planned connections between ready nodes, of which
	// ConnectedEdges are up; WaitingEdges involve nodes not ready yet.
	PlannedEdges, ConnectedEdges, WaitingEdges int
	// Addresses is the network's record of addresses given to its nodes
	// (status.peerAddresses).
	Addresses []string
	// Sync is the InSync verdict; nil when no node was asked.
	Sync *Sync
	// TipHeight and TipHash are the best block (by chain work) a node
	// reported.
	TipHeight int64
	TipHash   string
	// TipDifficulty is that block's difficulty.
	TipDifficulty float64
	// Mining is what the operator mined, if anything this pass or before.
	Mining *Mining
}

// Mining is what the operator mined on a regtest network.
type Mining struct {
	// InitialBlocksHeight is set once the initial blocks are there.
	InitialBlocksHeight int64
	// Node is the node that mines.
	Node string
	// LastBlockHeight and LastBlockTime describe the last block mined.
	LastBlockHeight int64
	LastBlockTime   time.Time
}

// NodePeering is one node's peer and chain state.
type NodePeering struct {
	Peers, ExpectedPeers int32
	BlockHeight          int64
	BestBlockHash        string
	Headers              int64
	InitialBlockDownload *bool
	UserAgent            string
	MempoolTransactions  *int64
	// Message is the RPC error of the last call, without credentials.
	Message string
}

// Problem is why the operator cannot bring a network to its spec. Its
// message names the field at fault and the fix.
type Problem struct {
	Reason  string
	Message string
}

// Observed is what the controller saw of a network in one reconcile.
type Observed struct {
	Network *v1alpha1.BitcoinNetwork
	// Pods are the pods carrying the network's labels; only those a
	// group's StatefulSet controls are its nodes. They may be the cache's
	// own objects: read them, never change them.
	Pods []*corev1.Pod
	// Groups are the network's groups, in spec order, with what the
	// operator applied for them.
	Groups []GroupObserved
	// Problem, when set, makes the network Degraded: the spec of this
	// generation was not applied.
	Problem *Problem
	// ClusterDomain is the cluster's DNS domain, for node DNS names.
	ClusterDomain string
	// Peering is the node controller's last pass on this spec's peer plan;
	// nil when none has run yet.
	Peering *Peering
	// PeeringError is why that pass failed, if it did.
	PeeringError string
	// MiningAddress and MinerSecretName are where a regtest network's
	// blocks go (spec.regtest); empty otherwise.
	MiningAddress, MinerSecretName string
}

// GroupObserved is one group of a network as the object controller left
// it.
type GroupObserved struct {
	resources.Group
	// StatefulSet is the group's StatefulSet as the API server last
	// returned it (or the cache has it); nil when there is none.
	StatefulSet *appsv1.StatefulSet
	// DesiredConfigHash is the pod template's config hash the operator
	// applied; empty when it could not render one (see Problem).
	DesiredConfigHash string
	// Image is the group's image: its spec's or the operator's default.
	Image string
}

// Compute returns the network's new status. Each condition is set once, so
// its last transition time moves only when its status changes.
//
// Ready is what a user waiting for a usable network means: every node ready
// and running the current pod template (the StatefulSet reports its roll-out
// complete) and every planned connection up. status.observedGeneration is
// the last generation whose spec was applied in full: a Problem leaves it
// where it was, while the conditions say what happened to this generation.
func Compute(o Observed) v1alpha1.BitcoinNetworkStatus {
	n := o.Network
	nodes := nodeStatuses(o)
	want := resources.TotalNodes(n)
	st := v1alpha1.BitcoinNetworkStatus{
		ObservedGeneration: n.Generation,
		DesiredNodes:       want,
		CurrentNodes:       int32(len(nodes)),
		Selector:           resources.Selector(n).String(),
		RPCSecretName:      resources.RPCSecretName(n),
		Conditions:         slices.Clone(n.Status.Conditions),
		Nodes:              nodes,
		PeerAddresses:      n.Status.PeerAddresses,
	}
	if o.Peering != nil {
		st.PeerAddresses = o.Peering.Addresses
	}
	if o.Peering != nil {
		st.TipHeight, st.TipHash = o.Peering.TipHeight, o.Peering.TipHash
		if o.Peering.TipDifficulty > 0 {
			// A decimal string: the API keeps floats out of its types.
			st.TipDifficulty = strconv.FormatFloat(o.Peering.TipDifficulty, 'g', 6, 64)
		}
	} else {
		st.TipHeight, st.TipHash, st.TipDifficulty = n.Status.TipHeight, n.Status.TipHash, n.Status.TipDifficulty
	}
	st.Mining = mining(o)
	st.Groups = groupStatuses(o, nodes)
	st.Endpoints = endpoints(o)
	if o.Problem != nil {
		st.ObservedGeneration = n.Status.ObservedGeneration
	}
	for _, node := range nodes {
		if node.Ready {
			st.ReadyNodes++
		}
	}
	set := func(condType string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: condType, Status: status, Reason: reason, Message: msg, ObservedGeneration: n.Generation,
		})
	}

	if o.Problem != nil {
		set(v1alpha1.ConditionDegraded, metav1.ConditionTrue, o.Problem.Reason, o.Problem.Message)
	} else {
		set(v1alpha1.ConditionDegraded, metav1.ConditionFalse, ReasonReconciled, "The operator applied the network's spec.")
	}

	rollingOut := rollOut(o)
	switch {
	case o.Problem != nil:
		// Stuck towards a spec it cannot reach: Degraded says why.
		set(v1alpha1.ConditionProgressing, metav1.ConditionFalse, ReasonBlocked, "Blocked: "+o.Problem.Message)
	case st.CurrentNodes != want:
		set(v1alpha1.ConditionProgressing, metav1.ConditionTrue, ReasonScaling,
			fmt.Sprintf("Scaling from %d to %d nodes.", st.CurrentNodes, want))
	case rollingOut != "":
		set(v1alpha1.ConditionProgressing, metav1.ConditionTrue, ReasonRollingOut, rollingOut)
	case st.ReadyNodes < want:
		set(v1alpha1.ConditionProgressing, metav1.ConditionTrue, ReasonNodesStarting,
			fmt.Sprintf("%d of %d nodes are ready.", st.ReadyNodes, want))
	default:
		set(v1alpha1.ConditionProgressing, metav1.ConditionFalse, ReasonStable, "No change in progress.")
	}

	setPeersConnected(o, st.CurrentNodes, set)
	if o.Peering != nil && o.Peering.Sync != nil {
		set(v1alpha1.ConditionInSync, o.Peering.Sync.Status, o.Peering.Sync.Reason, o.Peering.Sync.Message)
	}
	peers := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionPeersConnected)

	switch {
	case o.Problem != nil:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.Problem.Reason, o.Problem.Message)
	case want == 0 && st.CurrentNodes == 0:
		set(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonScaledToZero,
			"No node is asked for: none runs; configuration, credentials and volumes are kept.")
	case st.ReadyNodes != want || st.CurrentNodes != want:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonNodesNotReady,
			fmt.Sprintf("%d of %d nodes are ready.", st.ReadyNodes, want))
	case rollingOut != "":
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonRollingOut, rollingOut)
	case peers.Status != metav1.ConditionTrue:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, ReasonPeersNotConnected,
			fmt.Sprintf("All %d nodes are ready, but not every planned connection is up: %s", want, peers.Message))
	default:
		set(v1alpha1.ConditionReady, metav1.ConditionTrue, ReasonAllNodesReady,
			fmt.Sprintf("All %d nodes are ready and run the current configuration; every planned connection is up.", want))
	}
	return st
}

// mining is the status of a regtest network's mining: where blocks go,
// and what was mined, kept across passes (the initial blocks' height is
// recorded once and never cleared).
func mining(o Observed) *v1alpha1.MiningStatus {
	if o.MiningAddress == "" {
		return nil
	}
	m := &v1alpha1.MiningStatus{Address: o.MiningAddress, MinerSecretName: o.MinerSecretName}
	if old := o.Network.Status.Mining; old != nil {
		m.InitialBlocksHeight, m.LastBlockHeight, m.LastBlockTime, m.Node = old.InitialBlocksHeight, old.LastBlockHeight, old.LastBlockTime, old.Node
	}
	if p := o.Peering; p != nil && p.Mining != nil {
		m.InitialBlocksHeight = max(m.InitialBlocksHeight, p.Mining.InitialBlocksHeight)
		if p.Mining.Node != "" {
			m.Node = p.Mining.Node
		}
		if !p.Mining.LastBlockTime.IsZero() {
			m.LastBlockHeight, m.LastBlockTime = p.Mining.LastBlockHeight, &metav1.Time{Time: p.Mining.LastBlockTime.Truncate(time.Second)}
		}
	}
	return m
}

// rollOut says why the nodes do not all run the current pod template yet,
// from what each group's StatefulSet controller reports and the pods'
// config hashes; "" when they do.
func rollOut(o Observed) string {
	for _, g := range o.Groups {
		if why := groupRollOut(o, g); why != "" {
			if g.Name != "" {
				return "Group " + g.Name + ": " + why
			}
			return why
		}
	}
	return ""
}

func groupRollOut(o Observed, g GroupObserved) string {
	want := g.Nodes
	if sts := g.StatefulSet; sts != nil {
		s := sts.Status
		switch {
		case s.ObservedGeneration < sts.Generation:
			return "The StatefulSet controller has not yet seen the current pod template."
		case s.UpdateRevision != "" && s.CurrentRevision != s.UpdateRevision:
			return fmt.Sprintf("%d of %d nodes run the current pod template; the others are being replaced.", s.UpdatedReplicas, want)
		case s.UpdatedReplicas < want:
			return fmt.Sprintf("%d of %d nodes run the current pod template.", s.UpdatedReplicas, want)
		}
	}
	if g.DesiredConfigHash == "" {
		return ""
	}
	outdated := 0
	for _, p := range GroupPods(o.Pods, resources.GroupStatefulSetName(o.Network, g.Group), g.StatefulSet) {
		if p.Annotations[resources.AnnotationConfigHash] != g.DesiredConfigHash {
			outdated++
		}
	}
	if outdated > 0 {
		return fmt.Sprintf("%d of %d nodes run an outdated configuration and are being replaced.", outdated, want)
	}
	return ""
}

func setPeersConnected(o Observed, current int32, set func(string, metav1.ConditionStatus, string, string)) {
	n := o.Network
	want := resources.TotalNodes(n)
	switch {
	case n.Spec.Topology == v1alpha1.TopologyNone:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionTrue, ReasonTopologyNone,
			"spec.topology is none: the operator adds and removes no peers.")
	case want == 0:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionTrue, ReasonNoNodes, "No node runs.")
	case o.Problem != nil:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionUnknown, ReasonBlocked, "Peers are not checked until the network is reconciled.")
	case o.PeeringError != "":
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionUnknown, ReasonPeerCheckFailed,
			"The last peer check failed: "+o.PeeringError+". The operator retries with backoff.")
	case o.Peering == nil:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionUnknown, ReasonChecking,
			fmt.Sprintf("The operator is checking the peers of %d nodes (%s topology).", want, n.Spec.Topology))
	case o.Peering.WaitingEdges > 0 || current < want:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionFalse, ReasonWaitingForNodes,
			fmt.Sprintf("%d of %d planned connections are up; %d wait for nodes to become ready.",
				o.Peering.ConnectedEdges, o.Peering.PlannedEdges+o.Peering.WaitingEdges, o.Peering.WaitingEdges))
	case o.Peering.ConnectedEdges < o.Peering.PlannedEdges:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionFalse, ReasonConnecting,
			fmt.Sprintf("%d of %d planned connections are up; the operator is connecting the rest.", o.Peering.ConnectedEdges, o.Peering.PlannedEdges))
	default:
		set(v1alpha1.ConditionPeersConnected, metav1.ConditionTrue, ReasonAllPeersConnected,
			fmt.Sprintf("All %d planned connections are up.", o.Peering.PlannedEdges))
	}
}

// nodeStatuses lists the nodes by group (in spec order) and ordinal: the
// live pods each group's StatefulSet controls, one per ordinal. Peer and
// chain data come from the last pass; until a pass has run on the spec's
// plan, a node keeps its last observation (while it keeps its IP).
func nodeStatuses(o Observed) []v1alpha1.NodeStatus {
	n := o.Network
	var nodes []v1alpha1.NodeStatus
	for _, g := range o.Groups {
		stsName := resources.GroupStatefulSetName(n, g.Group)
		byOrdinal := map[int32]v1alpha1.NodeStatus{}
		for _, p := range GroupPods(o.Pods, stsName, g.StatefulSet) {
			ordinal, _ := Ordinal(stsName, p)
			if _, dup := byOrdinal[ordinal]; dup {
				continue
			}
			byOrdinal[ordinal] = nodeStatus(o, g.Name, ordinal, p)
		}
		group := slices.Collect(maps.Values(byOrdinal))
		slices.SortFunc(group, func(a, b v1alpha1.NodeStatus) int { return int(a.Ordinal - b.Ordinal) })
		nodes = append(nodes, group...)
	}
	return nodes
}

// nodeStatus is one node's status, from its pod and the last pass.
func nodeStatus(o Observed, group string, ordinal int32, p *corev1.Pod) v1alpha1.NodeStatus {
	n := o.Network
	node := v1alpha1.NodeStatus{
		Name:     p.Name,
		Ordinal:  ordinal,
		Group:    group,
		Ready:    PodReady(p),
		IP:       p.Status.PodIP,
		NodeName: p.Spec.NodeName,
		DNSName:  fmt.Sprintf("%s.%s.%s.svc.%s", p.Name, resources.ServiceName(n), n.Namespace, o.ClusterDomain),
	}
	if o.Peering != nil {
		if np, ok := o.Peering.Nodes[p.Name]; ok {
			node.Peers, node.ExpectedPeers, node.BlockHeight, node.Message = np.Peers, np.ExpectedPeers, np.BlockHeight, np.Message
			node.BestBlockHash, node.Headers, node.InitialBlockDownload, node.UserAgent = np.BestBlockHash, np.Headers, np.InitialBlockDownload, np.UserAgent
			node.MempoolTransactions = np.MempoolTransactions
		}
		return node
	}
	for _, old := range n.Status.Nodes {
		if old.Name == p.Name && old.IP == p.Status.PodIP {
			old.Name, old.Ordinal, old.Group, old.Ready, old.IP, old.NodeName, old.DNSName = node.Name, node.Ordinal, node.Group, node.Ready, node.IP, node.NodeName, node.DNSName
			return old
		}
	}
	return node
}

// groupStatuses sums up each group: its nodes and the versions they run.
func groupStatuses(o Observed, nodes []v1alpha1.NodeStatus) []v1alpha1.GroupStatus {
	out := make([]v1alpha1.GroupStatus, 0, len(o.Groups))
	for _, g := range o.Groups {
		ports := resources.PortsFor(g.Implementation, o.Network.Spec.Chain)
		gs := v1alpha1.GroupStatus{Name: g.Name, Implementation: g.Implementation, Image: g.Image, DesiredNodes: g.Nodes, RPCPort: ports.RPC, P2PPort: ports.P2P}
		if gs.Name == "" {
			gs.Name = o.Network.Name
		}
		for _, node := range nodes {
			if node.Group != g.Name {
				continue
			}
			gs.CurrentNodes++
			if node.Ready {
				gs.ReadyNodes++
			}
			if node.UserAgent != "" && !slices.Contains(gs.UserAgents, node.UserAgent) {
				gs.UserAgents = append(gs.UserAgents, node.UserAgent)
			}
		}
		slices.Sort(gs.UserAgents)
		out = append(out, gs)
	}
	return out
}

// endpoints names the Service and the first node's addresses, which do
// not depend on any pod: a client can be configured before the nodes run.
func endpoints(o Observed) *v1alpha1.EndpointsStatus {
	n := o.Network
	if len(o.Groups) == 0 {
		return nil
	}
	g := o.Groups[0]
	service := fmt.Sprintf("%s.%s.svc.%s", resources.ServiceName(n), n.Namespace, o.ClusterDomain)
	first := resources.GroupStatefulSetName(n, g.Group) + "-0." + service
	ports := resources.PortsFor(g.Implementation, n.Spec.Chain)
	e := &v1alpha1.EndpointsStatus{
		Service: service,
		RPC:     net.JoinHostPort(first, strconv.Itoa(int(ports.RPC))),
		P2P:     net.JoinHostPort(first, strconv.Itoa(int(ports.P2P))),
	}
	if resources.HasImplementation(n, v1alpha1.ImplementationBtcd) {
		e.TLSCASecret = resources.TLSSecretName(n)
	}
	return e
}

// GroupPods are the live pods of a group: those its StatefulSet (sts, nil
// when there is none yet) controls, named <stsName>-<ordinal>.
func GroupPods(pods []*corev1.Pod, stsName string, sts *appsv1.StatefulSet) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range ControlledPods(pods, sts) {
		if _, ok := Ordinal(stsName, p); ok {
			out = append(out, p)
		}
	}
	return out
}

// ControlledPods are the live pods a StatefulSet controls: a pod that
// merely carries the labels, or a look-alike name, is no node. Without a
// StatefulSet (nothing applied yet) the pods' labels and names are all
// there is to go by.
func ControlledPods(pods []*corev1.Pod, sts *appsv1.StatefulSet) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if sts != nil && !metav1.IsControlledBy(p, sts) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Ordinal returns a StatefulSet pod's ordinal from its name
// "<statefulset>-<n>" (a group's pods "<network>-<group>-<n>" are not the
// pods of a StatefulSet "<network>": their suffix is no number).
func Ordinal(statefulSet string, p *corev1.Pod) (int32, bool) {
	suffix, ok := strings.CutPrefix(p.Name, statefulSet+"-")
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(suffix, 10, 32)
	if err != nil || i < 0 {
		return 0, false
	}
	return int32(i), true
}

// PodReady reports whether a pod's Ready condition is True.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
