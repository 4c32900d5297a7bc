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

// Package resources renders the Kubernetes objects of a BitcoinNetwork. Every
// function here is pure: it turns a network (and what the controller resolved
// for it) into desired objects, and never talks to the API server.
package resources

import (
	"maps"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

const (
	// FieldOwner is the server-side apply field manager of everything the
	// operator writes.
	FieldOwner = "bitcoin-network-operator"

	// ManagedByValue is the app.kubernetes.io/managed-by label value of every
	// object the operator creates; the operator's caches select on it.
	ManagedByValue = "bitcoin-network-operator"

	// LabelManagedBy and friends are the recommended app.kubernetes.io labels.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelPartOf    = "app.kubernetes.io/part-of"

	// LabelImplementation and LabelChain make node pods easy to find by
	// what they run.
	LabelImplementation = "bitcoin.network-operator.dev/implementation"
	LabelChain          = "bitcoin.network-operator.dev/chain"

	// AnnotationConfigHash on the pod template changes whenever the node
	// configuration or credentials change, so the StatefulSet rolls its pods.
	AnnotationConfigHash = "bitcoin.network-operator.dev/config-hash"

	appName       = "bitcoin-node"
	componentNode = "node"
	partOf        = "bitcoin-network"
)

// ServiceName is the name of the network's headless Service.
func ServiceName(n *v1alpha1.BitcoinNetwork) string { return n.Name }

// StatefulSetName is the name of the network's StatefulSet.
func StatefulSetName(n *v1alpha1.BitcoinNetwork) string { return n.Name }

// ConfigMapName is the name of the ConfigMap holding the node configuration.
func ConfigMapName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-config" }

// GeneratedRPCSecretName is the name of the Secret the operator generates
// when spec.rpcSecretName is empty.
func GeneratedRPCSecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-rpc" }

// RPCAuthSecretName is the name of the Secret holding the rpcauth value the
// operator derives from a user's Secret for bitcoind.
func RPCAuthSecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-rpcauth" }

// BtcdConfigSecretName is the Secret a btcd node reads its configuration,
// credentials included, from.
func BtcdConfigSecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-btcd-config" }

// TLSSecretName is the Secret with a btcd network's RPC TLS material.
func TLSSecretName(n *v1alpha1.BitcoinNetwork) string { return n.Name + "-tls" }

// createdOnceSuffixes end the names of the Secrets the operator creates once
// for a network (see NetworksOfSecret).
var createdOnceSuffixes = []string{"-rpc", "-tls", "-miner", "-fingerprint-key", "-signet"}

// NetworksOfSecret names the networks whose created-once Secret a Secret
// of this name would be: a Secret of such a name that the network does not
// control blocks it, and its deletion must wake the network.
func NetworksOfSecret(secretName string) []string {
	var out []string
	for _, suffix := range createdOnceSuffixes {
		if name, ok := strings.CutSuffix(secretName, suffix); ok && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// NodeServerName is the DNS name that a node's RPC certificate is verified
// against: the pod's name under the headless Service.
func NodeServerName(n *v1alpha1.BitcoinNetwork, pod string) string {
	return pod + "." + ServiceName(n) + "." + n.Namespace + ".svc"
}

// RPCSecretName is the Secret that holds the RPC user and password.
func RPCSecretName(n *v1alpha1.BitcoinNetwork) string {
	if n.Spec.RPCSecretName != "" {
		return n.Spec.RPCSecretName
	}
	return GeneratedRPCSecretName(n)
}

// PodName is the name of the node pod with the given ordinal.
func PodName(n *v1alpha1.BitcoinNetwork, ordinal int32) string {
	return StatefulSetName(n) + "-" + itoa(ordinal)
}

// SelectorLabels select the node pods of a network. They never change for
// the life of a network, because a StatefulSet's selector is immutable.
func SelectorLabels(n *v1alpha1.BitcoinNetwork) map[string]string {
	return map[string]string{
		LabelName:      appName,
		LabelInstance:  n.Name,
		LabelComponent: componentNode,
	}
}

// Selector is SelectorLabels as a labels.Selector.
func Selector(n *v1alpha1.BitcoinNetwork) labels.Selector {
	return labels.SelectorFromSet(SelectorLabels(n))
}

// Labels are the labels of every object of a network. A network of one
// group also says its implementation (its groups' objects do each, see
// GroupLabels).
func Labels(n *v1alpha1.BitcoinNetwork) map[string]string {
	l := SelectorLabels(n)
	maps.Copy(l, map[string]string{
		LabelPartOf:    partOf,
		LabelManagedBy: ManagedByValue,
		LabelChain:     string(n.Spec.Chain),
	})
	if len(n.Spec.Groups) == 0 {
		l[LabelImplementation] = string(Groups(n)[0].Implementation)
	}
	return l
}

// GroupSelectorLabels select the pods of one group: a network of one group
// keeps the network's selector.
func GroupSelectorLabels(n *v1alpha1.BitcoinNetwork, g Group) map[string]string {
	l := SelectorLabels(n)
	if g.Name != "" {
		l[LabelGroup] = g.Name
	}
	return l
}

// GroupLabels are the labels of a group's StatefulSet and pods.
func GroupLabels(n *v1alpha1.BitcoinNetwork, g Group) map[string]string {
	l := Labels(n)
	maps.Copy(l, GroupSelectorLabels(n, g))
	l[LabelImplementation] = string(g.Implementation)
	return l
}

// objectMeta is the metadata shared by every rendered object: name,
// namespace, labels and the controller reference that lets the garbage
// collector delete it with the network.
func objectMeta(n *v1alpha1.BitcoinNetwork, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       n.Namespace,
		Labels:          Labels(n),
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(n, v1alpha1.GroupVersion.WithKind("BitcoinNetwork"))},
	}
}
