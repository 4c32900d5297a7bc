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

// Package controllers wires the operator's two controllers into a manager:
// the object controller (controllers/objects), which applies each
// BitcoinNetwork's objects and writes its status, and the node controller
// (controllers/nodes), which talks to the nodes. They share only the
// per-network state of controllers/netstate, and wake each other through
// channel sources.
package controllers

import (
	"fmt"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/faults"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/nodes"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/objects"
)

// Operator is the operator's configuration.
type Operator struct {
	// Client, APIReader and Recorder default to the manager's.
	Client    client.Client
	APIReader client.Reader
	Recorder  events.EventRecorder
	// DefaultImages are the node images used when spec.image is empty.
	DefaultImages map[v1alpha1.Implementation]string
	// ClusterDomain is the cluster's DNS domain, for node DNS names.
	ClusterDomain string
	// Nodes configures how the operator talks to the nodes.
	Nodes nodes.Options
	// OperatorNamespace is where the operator's pods run (see
	// objects.Reconciler.OperatorNamespace).
	OperatorNamespace string
	// SetVolumeGroup gives pods with persistent storage an fsGroup.
	SetVolumeGroup bool
}

// SetupWithManager registers both controllers.
func (o *Operator) SetupWithManager(mgr ctrl.Manager) error {
	if o.Client == nil {
		o.Client = mgr.GetClient()
	}
	if o.APIReader == nil {
		o.APIReader = mgr.GetAPIReader()
	}
	if o.Recorder == nil {
		o.Recorder = mgr.GetEventRecorder("bitcoin-network-operator")
	}
	states := &netstate.Store{}
	wakeObjects, wakeNodes := make(chan event.GenericEvent, 64), make(chan event.GenericEvent, 64)
	if err := (&objects.Reconciler{
		Client: o.Client, APIReader: o.APIReader, Recorder: o.Recorder,
		DefaultImages: o.DefaultImages, ClusterDomain: o.ClusterDomain,
		OperatorNamespace: o.OperatorNamespace, SetVolumeGroup: o.SetVolumeGroup,
		States: states, WakeNodes: wakeNodes, Wake: wakeObjects,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the object controller: %w", err)
	}
	if err := (&nodes.Reconciler{
		Client: o.Client, Options: o.Nodes, States: states,
		Wake: wakeNodes, WakeSelf: wakeNodes, WakeObjects: wakeObjects,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the node controller: %w", err)
	}
	if err := (&faults.Reconciler{Client: o.Client, Recorder: o.Recorder, States: states}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the fault controller: %w", err)
	}
	return nil
}

// MetricNames are the names of the metrics the operator serves besides
// controller-runtime's.
func MetricNames() []string { return metrics.MetricNames() }
