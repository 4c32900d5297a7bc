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
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// client is a pod that would connect to a node: its labels and its
// namespace's.
type client struct {
	namespace string
	nsLabels  labels.Set
	labels    labels.Set
}

// admits evaluates a policy's ingress rules for a connection from c to a
// named port of a selected pod, as the NetworkPolicy API defines them: a
// rule admits a peer with a pod selector alone from the policy's own
// namespace, with a namespace selector from the namespaces it selects
// (and, with both, only the selected pods there). Enforcing it is the
// cluster's network plugin's job; this checks what the operator asks for.
func admits(t *testing.T, np *networkingv1.NetworkPolicy, c client, port string) bool {
	t.Helper()
	match := func(sel *metav1.LabelSelector, set labels.Set) bool {
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		return s.Matches(set)
	}
	for _, rule := range np.Spec.Ingress {
		if rule.Ports[0].Port.String() != port {
			continue
		}
		for _, from := range rule.From {
			switch {
			case from.IPBlock != nil:
				continue // pods are told apart by labels here
			case from.NamespaceSelector == nil:
				if c.namespace == np.Namespace && match(from.PodSelector, c.labels) {
					return true
				}
			case match(from.NamespaceSelector, c.nsLabels) && (from.PodSelector == nil || match(from.PodSelector, c.labels)):
				return true
			}
		}
	}
	return false
}

func TestSpecAccessAdmitsTheNamedClientsAndNoOneElse(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	n.Spec.Access = &v1alpha1.AccessSpec{
		RPCFrom: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "wallet"}}}},
		P2PFrom: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "lightning"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "lnd"}},
		}},
	}
	np := DesiredNetworkPolicy(n, "operators")
	ns := func(name string, extra labels.Set) labels.Set {
		set := labels.Set{"kubernetes.io/metadata.name": name}
		for k, v := range extra {
			set[k] = v
		}
		return set
	}
	for _, tc := range []struct {
		name     string
		c        client
		rpc, p2p bool
	}{
		{"the wallet in the network's namespace", client{"btc", ns("btc", nil), labels.Set{"app": "wallet"}}, true, false},
		{"a wallet in another namespace", client{"team-b", ns("team-b", nil), labels.Set{"app": "wallet"}}, false, false},
		{"lnd in a lightning namespace", client{"ln", ns("ln", labels.Set{"team": "lightning"}), labels.Set{"app": "lnd"}}, false, true},
		{"another pod of the lightning namespace", client{"ln", ns("ln", labels.Set{"team": "lightning"}), labels.Set{"app": "shell"}}, false, false},
		{"any pod of the network's namespace", client{"btc", ns("btc", nil), labels.Set{"app": "shell"}}, false, false},
		{"the network's own node", client{"btc", ns("btc", nil), labels.Set(SelectorLabels(n))}, false, true},
		{"the operator", client{"operators", ns("operators", nil), labels.Set(OperatorPodLabels)}, true, false},
	} {
		if rpc, p2p := admits(t, np, tc.c, PortNameRPC), admits(t, np, tc.c, PortNameP2P); rpc != tc.rpc || p2p != tc.p2p {
			t.Errorf("%s: RPC %v, P2P %v; want %v, %v", tc.name, rpc, p2p, tc.rpc, tc.p2p)
		}
	}
	// The spec's peers are copied, not shared with the rendered policy.
	np.Spec.Ingress[1].From[1].PodSelector.MatchLabels["app"] = "changed"
	if n.Spec.Access.RPCFrom[0].PodSelector.MatchLabels["app"] != "wallet" {
		t.Error("the rendered policy shares its peers with the network's spec")
	}
}
