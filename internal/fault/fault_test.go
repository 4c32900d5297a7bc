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

package fault

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

func network(nodes int32) *v1alpha1.BitcoinNetwork {
	n := &v1alpha1.BitcoinNetwork{}
	n.Name = "net"
	n.Spec.Nodes = ptr.To(nodes)
	return n
}

func grouped() *v1alpha1.BitcoinNetwork {
	n := &v1alpha1.BitcoinNetwork{}
	n.Name = "mix"
	n.Spec.Groups = []v1alpha1.NodeGroup{{Name: "old", Nodes: 2}, {Name: "new", Nodes: 2}, {Name: "btcd", Nodes: 1}}
	return n
}

func TestSides(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec v1alpha1.BitcoinNetworkFaultSpec
		n    *v1alpha1.BitcoinNetwork
		want [][]string
		err  string
	}{
		{name: "three and three", n: network(6),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: []string{"net-0", "net-1", "net-2"}}, {Nodes: []string{"net-3", "net-4", "net-5"}}}}},
			want: [][]string{{"net-0", "net-1", "net-2"}, {"net-3", "net-4", "net-5"}}},
		{name: "the rest is a side", n: network(4),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: []string{"net-2"}}}}},
			want: [][]string{{"net-2"}, {"net-0", "net-1", "net-3"}}},
		{name: "groups", n: grouped(),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Groups: []string{"old"}}, {Groups: []string{"new"}, Nodes: []string{"mix-btcd-0"}}}}},
			want: [][]string{{"mix-old-0", "mix-old-1"}, {"mix-new-0", "mix-new-1", "mix-btcd-0"}}},
		{name: "isolate", n: network(4),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Isolate: &v1alpha1.IsolateFault{Nodes: []string{"net-3", "net-1"}}},
			want: [][]string{{"net-3"}, {"net-1"}, {"net-0", "net-2"}}},
		{name: "reorg: the smaller side first", n: network(5),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Reorg: &v1alpha1.ReorgFault{Depth: 3}},
			want: [][]string{{"net-0", "net-1"}, {"net-2", "net-3", "net-4"}}},
		{name: "reorg off regtest", n: func() *v1alpha1.BitcoinNetwork { n := network(4); n.Spec.Chain = v1alpha1.ChainSignet; return n }(),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Reorg: &v1alpha1.ReorgFault{Depth: 1}},
			err:  "spec.reorg: network net runs signet; the operator mines only on regtest"},
		{name: "reorg of one node", n: network(1),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Reorg: &v1alpha1.ReorgFault{Depth: 1}},
			err:  "needs two sides, so at least 2 nodes"},
		{name: "reorg with btcd and no mining address", n: func() *v1alpha1.BitcoinNetwork {
			n := network(4)
			n.Spec.Implementation = v1alpha1.ImplementationBtcd
			return n
		}(),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Reorg: &v1alpha1.ReorgFault{Depth: 1}},
			err:  "runs btcd nodes and has no spec.regtest: btcd mines only to the mining address spec.regtest gives it"},
		{name: "reorg with btcd", n: func() *v1alpha1.BitcoinNetwork {
			n := network(4)
			n.Spec.Implementation = v1alpha1.ImplementationBtcd
			n.Spec.Regtest = &v1alpha1.RegtestSpec{}
			return n
		}(),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Reorg: &v1alpha1.ReorgFault{Depth: 1}},
			want: [][]string{{"net-0", "net-1"}, {"net-2", "net-3"}}},
		{name: "unknown node", n: network(3),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: []string{"net-7"}}}}},
			err:  "spec.partition.sides[0].nodes: net-7 is not a node of network net (its nodes are net-0, net-1, net-2)"},
		{name: "node in a group on the other side", n: grouped(),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: []string{"mix-old-1"}}, {Groups: []string{"old"}}}}},
			err:  "spec.partition.sides[1].groups: node mix-old-1 is on two sides"},
		{name: "unknown group", n: grouped(),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Groups: []string{"knots"}}}}},
			err:  "spec.partition.sides[0].groups: knots is not a group of network mix"},
		{name: "one side only", n: network(2),
			spec: v1alpha1.BitcoinNetworkFaultSpec{Partition: &v1alpha1.PartitionFault{Sides: []v1alpha1.FaultSide{{Nodes: []string{"net-0", "net-1"}}}}},
			err:  "every node of network net is on one side"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sides(tc.spec, tc.n)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("sides %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

func TestSideOfIndexPutsNewNodesWithTheRest(t *testing.T) {
	got := SideOfIndex([][]string{{"net-1"}, {"net-0", "net-2"}}, Nodes(network(4)))
	if want := []int{1, 0, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sides by index %v, want %v", got, want)
	}
}
