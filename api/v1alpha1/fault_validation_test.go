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

package v1alpha1_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

func TestFaultValidation(t *testing.T) {
	ctx := context.Background()
	sides := func(s ...v1alpha1.FaultSide) *v1alpha1.PartitionFault { return &v1alpha1.PartitionFault{Sides: s} }
	for _, tc := range []struct {
		name string
		spec v1alpha1.BitcoinNetworkFaultSpec
		err  string
	}{
		{name: "partition", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Partition: sides(v1alpha1.FaultSide{Nodes: []string{"net-0"}}, v1alpha1.FaultSide{Groups: []string{"b"}})}},
		{name: "isolate with a duration", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Isolate: &v1alpha1.IsolateFault{Nodes: []string{"net-1"}}, Duration: &metav1.Duration{Duration: time.Minute}}},
		{name: "no fault", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net"}, err: "set exactly one of partition, isolate and reorg"},
		{name: "two faults", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Partition: sides(v1alpha1.FaultSide{Nodes: []string{"net-0"}}), Isolate: &v1alpha1.IsolateFault{Nodes: []string{"net-1"}}}, err: "set exactly one of partition, isolate and reorg"},
		{name: "a node on two sides", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Partition: sides(v1alpha1.FaultSide{Nodes: []string{"net-0", "net-1"}}, v1alpha1.FaultSide{Nodes: []string{"net-1"}})}, err: "a node is named on two sides"},
		{name: "a group on two sides", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Partition: sides(v1alpha1.FaultSide{Groups: []string{"a"}}, v1alpha1.FaultSide{Groups: []string{"a", "b"}})}, err: "a group is named on two sides"},
		{name: "an empty side", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Partition: sides(v1alpha1.FaultSide{Nodes: []string{"net-0"}}, v1alpha1.FaultSide{})}, err: "a side must name at least one node or group"},
		{name: "a duration too long", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Isolate: &v1alpha1.IsolateFault{Nodes: []string{"net-1"}}, Duration: &metav1.Duration{Duration: 48 * time.Hour}}, err: "spec.duration must be between 1s and 24h"},
		{name: "reorg", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Reorg: &v1alpha1.ReorgFault{Depth: 3}}},
		{name: "reorg too deep", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Reorg: &v1alpha1.ReorgFault{Depth: 101}}, err: "spec.reorg.depth"},
		{name: "reorg with a duration", spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Reorg: &v1alpha1.ReorgFault{Depth: 1}, Duration: &metav1.Duration{Duration: time.Minute}}, err: "spec.duration does not apply to a reorg"},
		{name: "no network", spec: v1alpha1.BitcoinNetworkFaultSpec{Isolate: &v1alpha1.IsolateFault{Nodes: []string{"net-1"}}}, err: "spec.networkName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "f-" + strings.ReplaceAll(tc.name, " ", "-")}, Spec: tc.spec}
			err := k8s.Create(ctx, f)
			t.Cleanup(func() { _ = k8s.Delete(ctx, f) })
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}

func TestAFaultIsOneExperiment(t *testing.T) {
	ctx := context.Background()
	f := &v1alpha1.BitcoinNetworkFault{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "immutable"},
		Spec: v1alpha1.BitcoinNetworkFaultSpec{NetworkName: "net", Isolate: &v1alpha1.IsolateFault{Nodes: []string{"net-1"}}}}
	if err := k8s.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, f) })
	f.Spec.Isolate.Nodes = []string{"net-2"}
	if err := k8s.Update(ctx, f); err == nil || !strings.Contains(err.Error(), "spec is immutable") {
		t.Fatalf("changing the isolated node: %v, want spec is immutable", err)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(f), f); err != nil || f.Spec.Isolate.Nodes[0] != "net-1" {
		t.Fatalf("stored %v (%v)", f.Spec.Isolate, err)
	}
}
