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
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// OperatorPodLabels are the labels of the operator's own pods (its
// Deployment in config/manager, and so in the CSV): the pods the nodes
// accept RPC from.
var OperatorPodLabels = map[string]string{
	"app.kubernetes.io/name": "bitcoin-network-operator",
	"control-plane":          "controller-manager",
}

// namespaceNameLabel is set by the API server on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// NetworkPolicyName is the name of a network's NetworkPolicy.
func NetworkPolicyName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-nodes" }

// DesiredNetworkPolicy renders the policy of a network's nodes. In: P2P
// connections from its own nodes, RPC connections from the operator's pods
// in operatorNamespace, and each from the clients spec.access names. Out: DNS, P2P to its own nodes and, on the public
// chains (public signet, testnet), P2P to the chain's port anywhere but
// link-local addresses (where clouds serve instance metadata). Nothing
// else either way: not the API server, not the rest of the cluster.
func DesiredNetworkPolicy(n *v1alpha1.BitcoinNetwork, operatorNamespace string) *networkingv1.NetworkPolicy {
	tcp, udp := ptr.To(corev1.ProtocolTCP), ptr.To(corev1.ProtocolUDP)
	var access v1alpha1.AccessSpec
	if n.Spec.Access != nil {
		access = *n.Spec.Access.DeepCopy()
	}
	nodes := metav1.LabelSelector{MatchLabels: SelectorLabels(n)}
	p2p := networkingv1.NetworkPolicyPort{Protocol: tcp, Port: ptr.To(intstr.FromString(PortNameP2P))}
	egress := []networkingv1.NetworkPolicyEgressRule{
		{Ports: []networkingv1.NetworkPolicyPort{{Protocol: udp, Port: ptr.To(intstr.FromInt32(53))}, {Protocol: tcp, Port: ptr.To(intstr.FromInt32(53))}}},
		{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &nodes}}, Ports: []networkingv1.NetworkPolicyPort{p2p}},
	}
	if n.Spec.Chain != v1alpha1.ChainRegtest && !PrivateSignet(n) {
		var ports []networkingv1.NetworkPolicyPort
		for _, g := range Groups(n) {
			public := ptr.To(intstr.FromInt32(PortsFor(g.Implementation, n.Spec.Chain).P2P))
			if !slices.ContainsFunc(ports, func(p networkingv1.NetworkPolicyPort) bool { return *p.Port == *public }) {
				ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: tcp, Port: public})
			}
		}
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"169.254.0.0/16"}}},
				{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: []string{"fe80::/10"}}},
			},
			Ports: ports,
		})
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: objectMeta(n, NetworkPolicyName(n)),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: nodes,
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: append([]networkingv1.NetworkPolicyPeer{{PodSelector: &nodes}}, access.P2PFrom...), Ports: []networkingv1.NetworkPolicyPort{p2p}},
				{
					From: append([]networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: operatorNamespace}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: OperatorPodLabels},
					}}, access.RPCFrom...),
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromString(PortNameRPC))}},
				},
			},
			Egress: egress,
		},
	}
}
