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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BitcoinNetworkFaultSpec declares one fault on one network. A fault is one
// experiment: its spec cannot change; delete it to heal.
//
// +kubebuilder:validation:XValidation:rule="(has(self.partition) ? 1 : 0) + (has(self.isolate) ? 1 : 0) + (has(self.reorg) ? 1 : 0) == 1",message="spec: set exactly one of partition, isolate and reorg"
// +kubebuilder:validation:XValidation:rule="!has(self.reorg) || !has(self.duration)",message="spec.duration does not apply to a reorg, which heals itself once both sides have mined"
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable: a fault is one experiment; delete it (which heals it) and create another"
type BitcoinNetworkFaultSpec struct {
	// NetworkName is the BitcoinNetwork, in this namespace, the fault acts
	// on. No fault touches a node of another network.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=52
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Network",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	NetworkName string `json:"networkName"`

	// Partition splits the network: nodes on different sides are not
	// connected while the fault is active. Nodes named on no side form one
	// more side together.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Partition"
	Partition *PartitionFault `json:"partition,omitempty"`

	// Isolate cuts the named nodes off from every other node of the
	// network (and from each other).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Isolate"
	Isolate *IsolateFault `json:"isolate,omitempty"`

	// Reorg makes a reorganisation of a chosen depth (regtest only): the
	// operator splits the network in two, mines depth blocks on the
	// smaller side and depth+1 on the other, then heals, so that every
	// node of the smaller side reorganises depth blocks deep. Done when
	// every node is back at one tip.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Reorg"
	Reorg *ReorgFault `json:"reorg,omitempty"`

	// Duration, when set, heals the fault by itself this long after it
	// became active (between 1s and 24h). Deleting the fault heals it
	// sooner.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('24h')",message="spec.duration must be between 1s and 24h"
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=spec,displayName="Duration",xDescriptors={"urn:alm:descriptor:com.tectonic.ui:text"}
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// PartitionFault is a split of a network into sides.
type PartitionFault struct {
	// Sides of the partition, each naming nodes (pods) or groups.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.all(b, a == b || !has(a.nodes) || !has(b.nodes) || !a.nodes.exists(n, n in b.nodes)))",message="spec.partition.sides: a node is named on two sides"
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.all(b, a == b || !has(a.groups) || !has(b.groups) || !a.groups.exists(g, g in b.groups)))",message="spec.partition.sides: a group is named on two sides"
	Sides []FaultSide `json:"sides"`
}

// FaultSide is one side of a partition.
//
// +kubebuilder:validation:XValidation:rule="(has(self.nodes) && self.nodes.size() > 0) || (has(self.groups) && self.groups.size() > 0)",message="spec.partition.sides: a side must name at least one node or group"
type FaultSide struct {
	// Nodes are node names: the pods' names, as status.nodes[].name has
	// them.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	// +listType=set
	Nodes []string `json:"nodes,omitempty"`
	// Groups are names of spec.groups: every node of the group.
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=40
	// +optional
	// +listType=set
	Groups []string `json:"groups,omitempty"`
}

// ReorgFault is a reorganisation to make.
type ReorgFault struct {
	// Depth is how many blocks the smaller side's nodes replace (1–100).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Depth int32 `json:"depth"`
}

// IsolateFault names nodes to cut off.
type IsolateFault struct {
	// Nodes are node names (pods' names).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	Nodes []string `json:"nodes"`
}

// The phases of a fault (status.phase).
const (
	// FaultPending: not enforced yet (the network is not found, the
	// fault is refused, or another fault on the network is active).
	FaultPending = "Pending"
	// FaultActive: the operator keeps the nodes apart.
	FaultActive = "Active"
	// FaultHealing: healed (deleted or its duration over); the operator is
	// restoring the planned topology and lifting its bans.
	FaultHealing = "Healing"
	// FaultHealed: the topology is restored and the bans lifted.
	FaultHealed = "Healed"
)

// Condition types of a BitcoinNetworkFault.
const (
	// FaultConditionActive is True while the fault is enforced.
	FaultConditionActive = "Active"
	// FaultConditionHealed is True once the fault's changes are undone,
	// and stays so; its reason says whether every node is at one tip.
	FaultConditionHealed = "Healed"
	// FaultConditionDegraded is True when the fault cannot be enforced as
	// written; its message names the field and the fix.
	FaultConditionDegraded = "Degraded"
)

// FaultSideStatus is one side of an active or healed fault as the operator
// resolved it, and the tips its nodes were at.
type FaultSideStatus struct {
	// Nodes on this side.
	Nodes []string `json:"nodes"`
	// Tips are the best blocks the side's nodes were at when last seen
	// during the fault (usually one).
	// +optional
	Tips []TipStatus `json:"tips,omitempty"`
}

// TipStatus is a best block and how many nodes have it.
type TipStatus struct {
	Height int64  `json:"height"`
	Hash   string `json:"hash"`
	Nodes  int32  `json:"nodes"`
}

// NodeReorgStatus is a reorganisation a node went through after the heal.
type NodeReorgStatus struct {
	// Node is the node's name.
	Node string `json:"node"`
	// Depth is how many blocks of its best chain it replaced, as the node
	// reports it (getchaintips: the branch length of its former tip).
	Depth int64 `json:"depth"`
	// ReplacedTip is the best block it had before.
	ReplacedTip string `json:"replacedTip"`
}

// BitcoinNetworkFaultStatus is what the operator did and saw.
type BitcoinNetworkFaultStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is Pending, Active, Healing or Healed.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Phase",xDescriptors={"urn:alm:descriptor:io.kubernetes.phase"}
	Phase string `json:"phase,omitempty"`
	// Conditions: Active, Healed and Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Conditions",xDescriptors={"urn:alm:descriptor:io.kubernetes.conditions"}
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// NetworkUID is the UID of the network the fault acts on: a network of
	// the same name created later is not this one.
	// +optional
	NetworkUID string `json:"networkUID,omitempty"`
	// StartedAt is when the operator began to enforce the fault.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// HealedAt is when the planned topology was restored and the bans
	// lifted.
	// +optional
	HealedAt *metav1.Time `json:"healedAt,omitempty"`
	// ConvergedAt is when every ready node was first seen at one tip after
	// the heal.
	// +optional
	ConvergedAt *metav1.Time `json:"convergedAt,omitempty"`
	// ConvergenceSeconds is the time from HealedAt to ConvergedAt (as the
	// operator's passes saw it: within a pass of the moment).
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Convergence (seconds)"
	ConvergenceSeconds *int64 `json:"convergenceSeconds,omitempty"`
	// Sides are the sides the operator enforced (an isolated node is a
	// side of its own), with the tips seen on each.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Sides"
	Sides []FaultSideStatus `json:"sides,omitempty"`
	// ReorgBaseHeight is, for a reorg, the height both sides mine from
	// (the tip when the split took hold): the smaller side mines to
	// ReorgBaseHeight+depth, the other to ReorgBaseHeight+depth+1. Kept
	// here so that no block is mined twice across operator restarts.
	// +optional
	ReorgBaseHeight *int64 `json:"reorgBaseHeight,omitempty"`
	// Reorgs are the reorganisations nodes reported after the heal.
	// +optional
	// +operator-sdk:csv:customresourcedefinitions:type=status,displayName="Reorganisations"
	Reorgs []NodeReorgStatus `json:"reorgs,omitempty"`
}

// BitcoinNetworkFault is a fault declared on a BitcoinNetwork: a partition
// or isolated nodes, enforced by the operator until it is deleted or its
// duration ends, then healed.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=btcfault,categories=bitcoin
// +kubebuilder:printcolumn:name="Network",type=string,JSONPath=`.spec.networkName`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Started",type=date,JSONPath=`.status.startedAt`
// +kubebuilder:printcolumn:name="Healed",type=date,JSONPath=`.status.healedAt`
// +kubebuilder:printcolumn:name="Converged(s)",type=integer,JSONPath=`.status.convergenceSeconds`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +operator-sdk:csv:customresourcedefinitions:displayName="Bitcoin Network Fault",resources={{BitcoinNetwork,v1alpha1,""},{Event,v1,""}}
type BitcoinNetworkFault struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the fault.
	Spec BitcoinNetworkFaultSpec `json:"spec"`

	// Status is what the operator did and saw.
	// +optional
	Status BitcoinNetworkFaultStatus `json:"status,omitempty"`
}

// BitcoinNetworkFaultList is a list of BitcoinNetworkFaults.
//
// +kubebuilder:object:root=true
type BitcoinNetworkFaultList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BitcoinNetworkFault `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BitcoinNetworkFault{}, &BitcoinNetworkFaultList{})
}
