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

package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// TestPasswordsAppearNowhereButInSecrets runs networks with known
// passwords (a user's Secret on btcd and on Bitcoin Core, and a generated
// one) and looks for them everywhere a user without access to Secrets, or
// anyone on the node's host, could look: the operator's logs at every
// level, events, the networks' status, every other object it rendered, the
// pods, and the node processes' command lines and environments.
func TestPasswordsAppearNowhereButInSecrets(t *testing.T) {
	realnode.RequireBitcoind(t)
	ctx := context.Background()
	ns := newNamespace(t)
	passwords := []string{"SCAN-ME-btcd-user-password-7f1c", "SCAN-ME-core-user-password-2b9e"}
	var networks []*v1alpha1.BitcoinNetwork
	for i, impl := range []v1alpha1.Implementation{v1alpha1.ImplementationBtcd, v1alpha1.ImplementationBitcoind} {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: string(impl) + "-creds"},
			Data: map[string][]byte{"rpcuser": []byte("alice"), "rpcpassword": []byte(passwords[i])}}
		if err := k8s.Create(ctx, secret); err != nil {
			t.Fatal(err)
		}
		n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "user-" + string(impl)}}
		n.Spec.Nodes, n.Spec.Implementation, n.Spec.RPCSecretName = ptr.To[int32](2), impl, secret.Name
		n.Spec.PeerCheckInterval = &metav1.Duration{Duration: 5 * time.Second}
		if err := k8s.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		networks = append(networks, n)
	}
	networks = append(networks, fixture.CreateNetwork(t, k8s, ns, "generated", v1alpha1.ImplementationBitcoind, 2))
	for _, n := range networks {
		waitConnected(t, n, 90*time.Second)
	}
	generated := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "generated-rpc"}, generated); err != nil {
		t.Fatal(err)
	}
	passwords = append(passwords, string(generated.Data["rpcpassword"]))

	places := map[string]string{"operator logs": envtest.Logs()}
	dump := func(what string, obj any) {
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		places[what] = string(b)
	}
	for what, list := range map[string]client.ObjectList{
		"events": &eventsv1.EventList{}, "networks (status included)": &v1alpha1.BitcoinNetworkList{},
		"StatefulSets": &appsv1.StatefulSetList{}, "ConfigMaps": &corev1.ConfigMapList{}, "Services": &corev1.ServiceList{}, "pods": &corev1.PodList{},
	} {
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		dump(what, list)
	}
	pods := &corev1.PodList{}
	if err := k8s.List(ctx, pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		view, err := sim.ProcessView(ns, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		places["command line and environment of "+p.Name] = view
	}
	if len(places["operator logs"]) == 0 || len(pods.Items) != 6 {
		t.Fatalf("%d bytes of logs, %d pods: nothing to scan", len(places["operator logs"]), len(pods.Items))
	}
	for what, text := range places {
		for _, pw := range passwords {
			if strings.Contains(text, pw) {
				t.Errorf("a password appears in the %s", what)
			}
		}
	}
}
