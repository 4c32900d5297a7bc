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

package resources

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// Port names of the node container and the Service.
const (
	PortNameP2P = "p2p"
	PortNameRPC = "rpc"
)

// DesiredService renders the network's headless Service. It gives every node
// a stable DNS name and publishes nodes before they are ready, so peers can
// find a node while it starts.
//
// Its rpc port is the first group's RPC port; each pod's own is its
// container's named port rpc (btcd's differs from Bitcoin Core's).
func DesiredService(n *v1alpha1.BitcoinNetwork) *corev1.Service {
	ports := PortsFor(Groups(n)[0].Implementation, n.Spec.Chain)
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(n, ServiceName(n)),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 SelectorLabels(n),
			Ports: []corev1.ServicePort{
				{Name: PortNameP2P, Port: ports.P2P, TargetPort: intstr.FromString(PortNameP2P), Protocol: corev1.ProtocolTCP},
				{Name: PortNameRPC, Port: ports.RPC, TargetPort: intstr.FromString(PortNameRPC), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}
