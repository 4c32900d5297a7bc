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

package objects_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
)

func createNetwork(t *testing.T, ns, name string, mutate func(*v1alpha1.BitcoinNetwork)) *v1alpha1.BitcoinNetwork {
	t.Helper()
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	n.Spec.Nodes = ptr.To[int32](3)
	if mutate != nil {
		mutate(n)
	}
	if err := k8s.Create(context.Background(), n); err != nil {
		t.Fatalf("creating network: %v", err)
	}
	return n
}

func get[T client.Object](t *testing.T, ns, name string, obj T) T {
	t.Helper()
	eventually(t, fmt.Sprintf("getting %T %s", obj, name), func() error {
		return k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj)
	})
	return obj
}

// updateNetwork changes a network's spec, retrying on conflicts with the
// operator's status writes.
func updateNetwork(t *testing.T, n *v1alpha1.BitcoinNetwork, change func(*v1alpha1.BitcoinNetwork)) {
	t.Helper()
	eventually(t, "updating network", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		change(n)
		return k8s.Update(context.Background(), n)
	})
}

// waitForStatus waits until the network's status satisfies check.
func waitForStatus(t *testing.T, n *v1alpha1.BitcoinNetwork, what string, check func(*v1alpha1.BitcoinNetwork) error) *v1alpha1.BitcoinNetwork {
	t.Helper()
	cur := &v1alpha1.BitcoinNetwork{}
	eventually(t, what, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), cur); err != nil {
			return err
		}
		return check(cur)
	})
	return cur
}

func conditionIs(condType string, status metav1.ConditionStatus, reason string) func(*v1alpha1.BitcoinNetwork) error {
	return func(n *v1alpha1.BitcoinNetwork) error {
		c := meta.FindStatusCondition(n.Status.Conditions, condType)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != n.Generation {
			return fmt.Errorf("condition %s = %+v, want status %s reason %s at generation %d", condType, c, status, reason, n.Generation)
		}
		return nil
	}
}

// waitForEvent waits for an event about the network with the given reason.
func waitForEvent(t *testing.T, n *v1alpha1.BitcoinNetwork, eventType, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	eventually(t, "event "+reason, func() error {
		list := &eventsv1.EventList{}
		if err := k8s.List(context.Background(), list, client.InNamespace(n.Namespace)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == n.Name && e.Regarding.Kind == "BitcoinNetwork" && e.Reason == reason && e.Type == eventType {
				found = e
				return nil
			}
		}
		return fmt.Errorf("no %s event with reason %s among %d events", eventType, reason, len(list.Items))
	})
	return found
}

func assertControlledBy(t *testing.T, obj client.Object, n *v1alpha1.BitcoinNetwork) {
	t.Helper()
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.UID != n.UID || ref.Kind != "BitcoinNetwork" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("%T %s: controller reference %+v, want BitcoinNetwork %s (uid %s) blocking owner deletion", obj, obj.GetName(), ref, n.Name, n.UID)
	}
}

func envNamed(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func TestCreateAppliesEveryObjectOwnedByTheNetwork(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "alpha", nil)

	sts := get(t, ns, "alpha", &appsv1.StatefulSet{})
	svc := get(t, ns, "alpha", &corev1.Service{})
	cm := get(t, ns, "alpha-config", &corev1.ConfigMap{})
	secret := get(t, ns, "alpha-rpc", &corev1.Secret{})
	for _, obj := range []client.Object{sts, svc, cm, secret} {
		assertControlledBy(t, obj, n)
	}

	if got := ptr.Deref(sts.Spec.Replicas, -1); got != 3 {
		t.Errorf("replicas = %d, want 3", got)
	}
	if sts.Spec.ServiceName != "alpha" || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("serviceName %q, podManagementPolicy %q; want alpha, Parallel", sts.Spec.ServiceName, sts.Spec.PodManagementPolicy)
	}
	if sts.Spec.Template.Annotations[resources.AnnotationConfigHash] == "" {
		t.Error("pod template has no config hash annotation")
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if c.Image != testBitcoindImage || c.Command[0] != "bitcoind" {
		t.Errorf("container image %q command %v, want %q bitcoind", c.Image, c.Command, testBitcoindImage)
	}
	if !slices.Contains(c.Args, "-rpcauth=$(BITCOIN_RPCAUTH)") {
		t.Errorf("args %v do not take rpcauth from the environment", c.Args)
	}
	env := envNamed(c, "BITCOIN_RPCAUTH")
	if env == nil || env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil || env.ValueFrom.SecretKeyRef.Name != "alpha-rpc" || env.ValueFrom.SecretKeyRef.Key != "rpcauth" {
		t.Errorf("BITCOIN_RPCAUTH = %+v, want a reference to Secret alpha-rpc key rpcauth", env)
	}
	if !*c.SecurityContext.ReadOnlyRootFilesystem || !*sts.Spec.Template.Spec.SecurityContext.RunAsNonRoot {
		t.Error("node container is not read-only and non-root")
	}

	if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("service clusterIP %q publishNotReadyAddresses %v, want headless and publishing not-ready nodes", svc.Spec.ClusterIP, svc.Spec.PublishNotReadyAddresses)
	}
	ports := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = p.Port
	}
	if ports["p2p"] != 18444 || ports["rpc"] != 18443 {
		t.Errorf("service ports %v, want p2p 18444 and rpc 18443", ports)
	}

	user, password := string(secret.Data["rpcuser"]), string(secret.Data["rpcpassword"])
	if user != "bitcoin" || len(password) < 43 {
		t.Errorf("generated credentials: user %q, password of %d characters; want bitcoin and a 32-byte random password", user, len(password))
	}
	if !rpcauth.Matches(string(secret.Data["rpcauth"]), user, password) {
		t.Errorf("generated rpcauth %q does not accept the generated password", secret.Data["rpcauth"])
	}
	conf := cm.Data["node.conf"]
	for _, want := range []string{"regtest=1\n", "[regtest]\n", "rpcport=18443\n", "port=18444\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("node.conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, password) || strings.Contains(conf, "rpcauth") {
		t.Errorf("node.conf contains credentials:\n%s", conf)
	}

	got := waitForStatus(t, n, "status with conditions", conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "NodesNotReady"))
	if got.Status.RPCSecretName != "alpha-rpc" || got.Status.ObservedGeneration != got.Generation || got.Status.Selector == "" {
		t.Errorf("status rpcSecretName %q observedGeneration %d selector %q", got.Status.RPCSecretName, got.Status.ObservedGeneration, got.Status.Selector)
	}
	for _, cond := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded} {
		if c := meta.FindStatusCondition(got.Status.Conditions, cond); c == nil || c.Message == "" || c.ObservedGeneration != got.Generation {
			t.Errorf("condition %s = %+v, want one with a message at the current generation", cond, c)
		}
	}
	waitForEvent(t, n, corev1.EventTypeNormal, "Created")
	time.Sleep(time.Second) // more reconciles follow the creation
	if c := eventCount(t, n, "Created"); c != 1 {
		t.Errorf("%d Created events, want 1", c)
	}
}

func TestBtcdNetworkTakesCredentialsFromTheSecret(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	createNetwork(t, ns, "gobtc", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Implementation, n.Spec.Image = v1alpha1.ImplementationBtcd, testBtcdImage
	})
	sts := get(t, ns, "gobtc", &appsv1.StatefulSet{})
	c := sts.Spec.Template.Spec.Containers[0]
	if c.Image != testBtcdImage || c.Command[0] != "btcd" {
		t.Errorf("container image %q command %v, want %q btcd", c.Image, c.Command, testBtcdImage)
	}
	// btcd reads its credentials from its configuration file, a Secret.
	creds := get(t, ns, "gobtc-rpc", &corev1.Secret{})
	conf := get(t, ns, "gobtc-btcd-config", &corev1.Secret{})
	for _, want := range []string{"rpcuser=\"bitcoin\"\n", fmt.Sprintf("rpcpass=%q\n", creds.Data["rpcpassword"]), "rpclisten=:18334\n"} {
		if !strings.Contains(string(conf.Data["node.conf"]), want) {
			t.Errorf("gobtc-btcd-config lacks %q", want)
		}
	}
	if v := sts.Spec.Template.Spec.Volumes[0]; v.Name != "config" || v.Secret == nil || v.Secret.SecretName != "gobtc-btcd-config" {
		t.Errorf("config volume %+v, want the Secret gobtc-btcd-config", v)
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.Contains(a, "rpcpass") }) {
		t.Errorf("args %v carry the password", c.Args)
	}
	cm := get(t, ns, "gobtc-config", &corev1.ConfigMap{})
	for _, want := range []string{"[Application Options]\n", "regtest=1\n", "rpclisten=:18334\n", "listen=:18444\n"} {
		if !strings.Contains(cm.Data["node.conf"], want) {
			t.Errorf("btcd config lacks %q:\n%s", want, cm.Data["node.conf"])
		}
	}
}

func TestScalingChangesTheStatefulSetReplicas(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "scaler", nil)
	replicasAre := func(want int32) {
		t.Helper()
		eventually(t, fmt.Sprintf("replicas %d", want), func() error {
			sts := &appsv1.StatefulSet{}
			if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "scaler"}, sts); err != nil {
				return err
			}
			if got := ptr.Deref(sts.Spec.Replicas, -1); got != want {
				return fmt.Errorf("replicas = %d", got)
			}
			return nil
		})
	}
	replicasAre(3)
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](5) })
	replicasAre(5)
	waitForEvent(t, n, corev1.EventTypeNormal, "Scaled")
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](2) })
	replicasAre(2)

	// kubectl scale and autoscalers go through the scale subresource,
	// read and written again when the operator's status write came
	// between (a conflict, as kubectl retries it).
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale := &autoscalingv1.Scale{}
		if err := k8s.SubResource("scale").Get(context.Background(), n, scale); err != nil {
			return err
		}
		if scale.Spec.Replicas != 2 {
			t.Errorf("scale subresource replicas = %d, want 2", scale.Spec.Replicas)
		}
		scale.Spec.Replicas = 4
		return k8s.SubResource("scale").Update(context.Background(), n, client.WithSubResourceBody(scale))
	}); err != nil {
		t.Fatalf("scaling through the scale subresource: %v", err)
	}
	replicasAre(4)

	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](0) })
	replicasAre(0)
	waitForStatus(t, n, "scaled to zero", conditionIs(v1alpha1.ConditionReady, metav1.ConditionTrue, "ScaledToZero"))
	get(t, ns, "scaler-config", &corev1.ConfigMap{})
	get(t, ns, "scaler-rpc", &corev1.Secret{})
}

// createNodePod creates a pod as the StatefulSet controller would, and sets
// its status as a kubelet would.
func createNodePod(t *testing.T, n *v1alpha1.BitcoinNetwork, ordinal int32, ip string, ready bool, configHash string) {
	t.Helper()
	ctx := context.Background()
	sts := get(t, n.Namespace, resources.StatefulSetName(n), &appsv1.StatefulSet{})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: resources.PodName(n, ordinal), Namespace: n.Namespace, Labels: resources.Labels(n),
			Annotations:     map[string]string{resources.AnnotationConfigHash: configHash},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sts, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))},
		},
		Spec: corev1.PodSpec{NodeName: "worker-1", Containers: []corev1.Container{{Name: "bitcoind", Image: testBitcoindImage}}},
	}
	pod.Labels["apps.kubernetes.io/pod-index"] = fmt.Sprint(ordinal)
	if err := k8s.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	setPodReady(t, pod, ip, ready)
}

// markRolledOut reports, as the StatefulSet controller would, that every
// replica of the network's StatefulSet runs its current template and is
// ready (envtest runs no StatefulSet controller).
func markRolledOut(t *testing.T, n *v1alpha1.BitcoinNetwork) {
	t.Helper()
	eventually(t, "marking the StatefulSet rolled out", func() error {
		sts := &appsv1.StatefulSet{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: n.Namespace, Name: resources.StatefulSetName(n)}, sts); err != nil {
			return err
		}
		replicas := ptr.Deref(sts.Spec.Replicas, 1)
		sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: replicas, ReadyReplicas: replicas,
			UpdatedReplicas: replicas, CurrentReplicas: replicas, CurrentRevision: "rev", UpdateRevision: "rev"}
		return k8s.Status().Update(context.Background(), sts)
	})
}

func setPodReady(t *testing.T, pod *corev1.Pod, ip string, ready bool) {
	t.Helper()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	eventually(t, "setting pod status", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP = ip
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
		return k8s.Status().Update(context.Background(), pod)
	})
}

func TestReadyPodsShowUpInStatus(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	// Nothing runs in these pods: peering is covered by test/integration.
	n := createNetwork(t, ns, "beta", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Nodes, n.Spec.Topology = ptr.To[int32](2), v1alpha1.TopologyNone
	})
	sts := get(t, ns, "beta", &appsv1.StatefulSet{})
	hash := sts.Spec.Template.Annotations[resources.AnnotationConfigHash]
	createNodePod(t, n, 0, "127.0.10.1", true, hash)
	createNodePod(t, n, 1, "127.0.10.2", false, hash)

	want := []v1alpha1.NodeStatus{
		{Name: "beta-0", Ordinal: 0, Ready: true, IP: "127.0.10.1", NodeName: "worker-1", DNSName: "beta-0.beta." + ns + ".svc.cluster.local"},
		{Name: "beta-1", Ordinal: 1, Ready: false, IP: "127.0.10.2", NodeName: "worker-1", DNSName: "beta-1.beta." + ns + ".svc.cluster.local"},
	}
	waitForStatus(t, n, "one ready node of two", func(n *v1alpha1.BitcoinNetwork) error {
		// Nothing answers at the ready node's address: even with topology
		// none the operator asks it for its chain, and says it failed.
		got := slices.Clone(n.Status.Nodes)
		if len(got) == 2 && got[0].Message == "" {
			return fmt.Errorf("the ready node that does not answer has no message: %+v", got[0])
		}
		for i := range got {
			got[i].Message = ""
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("status.nodes = %+v\nwant %+v", n.Status.Nodes, want)
		}
		if n.Status.CurrentNodes != 2 || n.Status.ReadyNodes != 1 {
			return fmt.Errorf("currentNodes %d readyNodes %d, want 2 and 1", n.Status.CurrentNodes, n.Status.ReadyNodes)
		}
		return conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "NodesNotReady")(n)
	})

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "beta-1"}}
	setPodReady(t, pod, "127.0.10.2", true)
	// Ready pods are not enough: the StatefulSet has not reported its
	// roll-out complete.
	waitForStatus(t, n, "waiting for the roll-out", conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "RollingOut"))
	markRolledOut(t, n)
	waitForStatus(t, n, "all nodes ready", conditionIs(v1alpha1.ConditionReady, metav1.ConditionTrue, "AllNodesReady"))
	waitForStatus(t, n, "nothing in progress", conditionIs(v1alpha1.ConditionProgressing, metav1.ConditionFalse, "Stable"))
	waitForEvent(t, n, corev1.EventTypeNormal, "NetworkReady")
	eventually(t, "metrics", func() error {
		if got := gauge(t, "bitcoin_network_nodes", map[string]string{"namespace": ns, "network": "beta", "state": "ready"}); got != 2 {
			return fmt.Errorf("bitcoin_network_nodes{state=ready} = %v, want 2", got)
		}
		if got := gauge(t, "bitcoin_network_condition", map[string]string{"namespace": ns, "network": "beta", "type": "Ready", "status": "True"}); got != 1 {
			return fmt.Errorf("bitcoin_network_condition{Ready,True} = %v, want 1", got)
		}
		return nil
	})

	// A pod running an outdated configuration keeps the network from Ready.
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1"} })
	waitForStatus(t, n, "rolling out", conditionIs(v1alpha1.ConditionProgressing, metav1.ConditionTrue, "RollingOut"))
}

func TestConfigChangeChangesThePodTemplateHash(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "gamma", nil)
	before := get(t, ns, "gamma", &appsv1.StatefulSet{}).Spec.Template.Annotations[resources.AnnotationConfigHash]
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1", "fallbackfee": "0.0002"}
	})
	eventually(t, "config hash changes", func() error {
		sts := &appsv1.StatefulSet{}
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "gamma"}, sts); err != nil {
			return err
		}
		if sts.Spec.Template.Annotations[resources.AnnotationConfigHash] == before {
			return fmt.Errorf("hash still %s", before)
		}
		return nil
	})
	cm := get(t, ns, "gamma-config", &corev1.ConfigMap{})
	if !strings.Contains(cm.Data["node.conf"], "txindex=1\n") || !strings.Contains(cm.Data["node.conf"], "fallbackfee=0.0002\n") {
		t.Errorf("node.conf lacks the new options:\n%s", cm.Data["node.conf"])
	}
}

func TestMissingUserSecretDegradesTheNetworkUntilItAppears(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "delta", func(n *v1alpha1.BitcoinNetwork) { n.Spec.RPCSecretName = "delta-credentials" })

	got := waitForStatus(t, n, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "RPCSecretNotFound"))
	msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message
	if !strings.Contains(msg, "spec.rpcSecretName") || !strings.Contains(msg, "delta-credentials") {
		t.Errorf("Degraded message %q does not name the field and the Secret", msg)
	}
	ev := waitForEvent(t, n, corev1.EventTypeWarning, "RPCSecretNotFound")
	if !strings.Contains(ev.Note, "delta-credentials") {
		t.Errorf("event note %q does not name the Secret", ev.Note)
	}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "delta"}, &appsv1.StatefulSet{}); err == nil {
		t.Error("a StatefulSet was created although its credentials are missing")
	}

	// A Secret without the password is named as such.
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "delta-credentials"},
		Data:       map[string][]byte{"rpcuser": []byte("alice")},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	got = waitForStatus(t, n, "secret invalid", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "RPCSecretInvalid"))
	if msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message; !strings.Contains(msg, "rpcpassword") {
		t.Errorf("Degraded message %q does not name the missing key", msg)
	}

	secret.Data["rpcpassword"] = []byte("correct horse battery staple")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, n, "recovered", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	waitForEvent(t, n, corev1.EventTypeNormal, "Recovered")
	sts := get(t, ns, "delta", &appsv1.StatefulSet{})
	env := envNamed(sts.Spec.Template.Spec.Containers[0], "BITCOIN_RPCAUTH")
	if env == nil || env.ValueFrom.SecretKeyRef.Name != "delta-rpcauth" {
		t.Fatalf("BITCOIN_RPCAUTH = %+v, want a reference to the derived Secret delta-rpcauth", env)
	}
	derived := get(t, ns, "delta-rpcauth", &corev1.Secret{})
	assertControlledBy(t, derived, n)
	if !rpcauth.Matches(string(derived.Data["rpcauth"]), "alice", "correct horse battery staple") {
		t.Errorf("derived rpcauth %q does not accept the user's password", derived.Data["rpcauth"])
	}

	// A new password rolls the nodes.
	hash := sts.Spec.Template.Annotations[resources.AnnotationConfigHash]
	secret.Data["rpcpassword"] = []byte("another password")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "password change rolls the nodes", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		if sts.Spec.Template.Annotations[resources.AnnotationConfigHash] == hash {
			return fmt.Errorf("config hash unchanged")
		}
		return nil
	})
}

func TestHandEditsAreReverted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	createNetwork(t, ns, "epsilon", nil)
	sts := get(t, ns, "epsilon", &appsv1.StatefulSet{})
	eventually(t, "editing the StatefulSet", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		sts.Spec.Replicas = ptr.To[int32](7)
		sts.Spec.Template.Spec.Containers[0].Image = "evil/image"
		return k8s.Update(ctx, sts)
	})
	svc := get(t, ns, "epsilon", &corev1.Service{})
	eventually(t, "editing the Service", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
			return err
		}
		svc.Spec.PublishNotReadyAddresses = false
		return k8s.Update(ctx, svc)
	})
	eventually(t, "edits reverted", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
			return err
		}
		if *sts.Spec.Replicas != 3 || sts.Spec.Template.Spec.Containers[0].Image != testBitcoindImage || !svc.Spec.PublishNotReadyAddresses {
			return fmt.Errorf("replicas %d image %s publishNotReadyAddresses %v", *sts.Spec.Replicas,
				sts.Spec.Template.Spec.Containers[0].Image, svc.Spec.PublishNotReadyAddresses)
		}
		return nil
	})
}

func TestGeneratedSecretIsNeverRewritten(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "zeta", nil)
	before := get(t, ns, "zeta-rpc", &corev1.Secret{})
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](4) })
	waitForStatus(t, n, "reconciled generation 2", func(n *v1alpha1.BitcoinNetwork) error {
		if n.Status.ObservedGeneration != n.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", n.Status.ObservedGeneration, n.Generation)
		}
		return nil
	})
	after := get(t, ns, "zeta-rpc", &corev1.Secret{})
	if after.ResourceVersion != before.ResourceVersion || string(after.Data["rpcpassword"]) != string(before.Data["rpcpassword"]) {
		t.Error("the generated Secret changed after a reconcile")
	}
}

func TestEditedGeneratedSecretIsReportedAndRegeneratedWhenDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "eta", nil)
	secret := get(t, ns, "eta-rpc", &corev1.Secret{})
	oldPassword := string(secret.Data["rpcpassword"])
	secret.Data["rpcpassword"] = []byte("hand-edited")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	got := waitForStatus(t, n, "degraded by the edit", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "RPCSecretInvalid"))
	if msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message; !strings.Contains(msg, "delete the Secret") {
		t.Errorf("Degraded message %q does not say how to fix it", msg)
	}
	if err := k8s.Delete(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, n, "recovered", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	regenerated := get(t, ns, "eta-rpc", &corev1.Secret{})
	if p := string(regenerated.Data["rpcpassword"]); p == oldPassword || p == "hand-edited" {
		t.Error("the regenerated Secret reuses an old password")
	}
}

func TestNetworkWithoutAnyImageIsDegradedUntilOneIsSet(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "noimage", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Implementation = v1alpha1.ImplementationBtcd })
	got := waitForStatus(t, n, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "ImageNotSet"))
	if msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message; !strings.Contains(msg, "spec.image") || !strings.Contains(msg, "RELATED_IMAGE_BTCD") {
		t.Errorf("Degraded message %q does not name spec.image and RELATED_IMAGE_BTCD", msg)
	}
	waitForEvent(t, n, corev1.EventTypeWarning, "ImageNotSet")
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Image = testBtcdImage })
	waitForStatus(t, n, "recovered", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	if img := get(t, ns, "noimage", &appsv1.StatefulSet{}).Spec.Template.Spec.Containers[0].Image; img != testBtcdImage {
		t.Errorf("image %q, want %q", img, testBtcdImage)
	}
}

// gauge reads one series from the manager's metrics registry (-1 if absent).
func gauge(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func TestUserNameBitcoinCoreCannotParseDegradesTheNetworkUntilFixed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "colon-credentials"},
		Data:       map[string][]byte{"rpcuser": []byte("a:b"), "rpcpassword": []byte("pw")},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	n := createNetwork(t, ns, "colon", func(n *v1alpha1.BitcoinNetwork) { n.Spec.RPCSecretName = secret.Name })
	got := waitForStatus(t, n, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "RPCSecretInvalid"))
	msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message
	for _, want := range []string{"spec.rpcSecretName", "colon-credentials", `"rpcuser"`, "':'"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Degraded message %q does not mention %s", msg, want)
		}
	}
	if strings.Contains(msg, "pw") {
		t.Errorf("Degraded message %q contains the password", msg)
	}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "colon"}, &appsv1.StatefulSet{}); err == nil {
		t.Error("a StatefulSet was created with a user name bitcoind refuses")
	}
	secret.Data["rpcuser"] = []byte("alice")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, n, "recovered", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	get(t, ns, "colon", &appsv1.StatefulSet{})
}

func TestMaxConnectionsTooLowForTheMeshDegradesTheNetworkAndKeepsItsNodes(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "slots", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Nodes = ptr.To[int32](8)
		n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxconnections": "15"}
	})
	sts := get(t, ns, "slots", &appsv1.StatefulSet{})
	waitForStatus(t, n, "reconciled", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	// 17 nodes plan 8 inbound connections per node: 15 leaves 4.
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](17) })
	got := waitForStatus(t, n, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "ConfigInvalid"))
	msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message
	if !strings.Contains(msg, "spec.config.maxconnections") || !strings.Contains(msg, "at least 19") {
		t.Errorf("Degraded message %q does not name the field and the value that works", msg)
	}
	waitForEvent(t, n, corev1.EventTypeWarning, "ConfigInvalid")
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sts), sts); err != nil || *sts.Spec.Replicas != 8 {
		t.Errorf("StatefulSet replicas %v (%v): want the 8 working nodes kept", sts.Spec.Replicas, err)
	}
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Config["maxconnections"] = "19" })
	waitForStatus(t, n, "recovered", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	eventually(t, "scaled to 17", func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sts), sts); err != nil {
			return err
		}
		if *sts.Spec.Replicas != 17 {
			return fmt.Errorf("replicas %d", *sts.Spec.Replicas)
		}
		return nil
	})
}

// eventCount counts the events of a reason about the network.
func eventCount(t *testing.T, n *v1alpha1.BitcoinNetwork, reason string) int {
	t.Helper()
	return fixture.EventCount(t, k8s, n, reason)
}

// denyStatefulSetsAbove installs an admission policy, as a cluster admin
// would, that rejects StatefulSets in ns with more than max replicas. It
// returns a function that lifts the policy.
func denyStatefulSetsAbove(t *testing.T, ns string, max int) func() {
	t.Helper()
	ctx := context.Background()
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "max-nodes-" + ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"statefulsets"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: fmt.Sprintf("object.spec.replicas <= %d", max),
				Message:    fmt.Sprintf("team quota: at most %d nodes per network", max),
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "max-nodes-" + ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			}},
		},
	}
	for _, obj := range []client.Object{policy, binding} {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	// The policy is enforced once the API server has loaded it: wait until
	// a dry-run StatefulSet above the limit is rejected.
	eventually(t, "the admission policy in force", func() error {
		probe := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(max + 1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}},
		}
		if err := k8s.Create(ctx, probe, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "team quota") {
			return fmt.Errorf("dry-run StatefulSet above the limit: %v", err)
		}
		return nil
	})
	return func() {
		for _, obj := range []client.Object{binding, policy} {
			if err := k8s.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRejectedApplyIsReportedAndHealsWhenTheCauseGoes: an admission policy
// rejects the scaled StatefulSet. The network must say so (Degraded
// ApplyFailed with the API server's message, one Warning event, Ready not
// claimed for the new generation, no Scaled event) and scale by itself once
// the policy is lifted.
func TestRejectedApplyIsReportedAndHealsWhenTheCauseGoes(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "capped", func(n *v1alpha1.BitcoinNetwork) { n.Spec.Topology = v1alpha1.TopologyNone })
	sts := get(t, ns, "capped", &appsv1.StatefulSet{})
	for i := int32(0); i < 3; i++ {
		createNodePod(t, n, i, fmt.Sprintf("127.0.11.%d", i+1), true, sts.Spec.Template.Annotations[resources.AnnotationConfigHash])
	}
	markRolledOut(t, n)
	ready := waitForStatus(t, n, "ready", conditionIs(v1alpha1.ConditionReady, metav1.ConditionTrue, "AllNodesReady"))
	appliedGeneration := ready.Status.ObservedGeneration

	lift := denyStatefulSetsAbove(t, ns, 3)
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](5) })
	got := waitForStatus(t, n, "apply failure reported", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "ApplyFailed"))
	msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message
	if !strings.Contains(msg, "team quota: at most 3 nodes per network") || !strings.Contains(msg, "StatefulSet capped") {
		t.Errorf("Degraded message %q does not carry the API server's reason and the object", msg)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady); c.Status == metav1.ConditionTrue {
		t.Errorf("Ready = %+v while the new generation could not be applied", c)
	}
	if got.Status.ObservedGeneration != appliedGeneration {
		t.Errorf("status.observedGeneration = %d, want %d: generation %d was not applied", got.Status.ObservedGeneration, appliedGeneration, got.Generation)
	}
	waitForEvent(t, n, corev1.EventTypeWarning, "ApplyFailed")
	// Retries go on with backoff; they add no events and no Scaled event.
	time.Sleep(3 * time.Second)
	if c := eventCount(t, n, "ApplyFailed"); c != 1 {
		t.Errorf("%d ApplyFailed events, want 1", c)
	}
	if c := eventCount(t, n, "Scaled"); c != 0 {
		t.Errorf("%d Scaled events for a scale that was rejected", c)
	}

	lift()
	waitForStatus(t, n, "healed", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sts), sts); err != nil || *sts.Spec.Replicas != 5 {
		t.Errorf("replicas %v (%v), want 5 once the policy is gone", sts.Spec.Replicas, err)
	}
	waitForEvent(t, n, corev1.EventTypeNormal, "Scaled")
	time.Sleep(time.Second)
	if c := eventCount(t, n, "Scaled"); c != 1 {
		t.Errorf("%d Scaled events for one scale, want 1", c)
	}
}

// TestAnyPodTemplateChangeIsARollOut: a change that leaves the node
// configuration alone (here the resources) still replaces the pods; the
// network is not Ready until the StatefulSet says the roll-out is done,
// and it becomes Ready once more, with one NetworkReady event.
func TestAnyPodTemplateChangeIsARollOut(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "roller", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Nodes, n.Spec.Topology = ptr.To[int32](2), v1alpha1.TopologyNone
	})
	sts := get(t, ns, "roller", &appsv1.StatefulSet{})
	hash := sts.Spec.Template.Annotations[resources.AnnotationConfigHash]
	createNodePod(t, n, 0, "127.0.12.1", true, hash)
	createNodePod(t, n, 1, "127.0.12.2", true, hash)
	markRolledOut(t, n)
	waitForStatus(t, n, "ready", conditionIs(v1alpha1.ConditionReady, metav1.ConditionTrue, "AllNodesReady"))
	waitForEvent(t, n, corev1.EventTypeNormal, "NetworkReady")

	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	})
	got := waitForStatus(t, n, "rolling out", conditionIs(v1alpha1.ConditionProgressing, metav1.ConditionTrue, "RollingOut"))
	if err := conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "RollingOut")(got); err != nil {
		t.Error(err)
	}
	if h := get(t, ns, "roller", &appsv1.StatefulSet{}).Spec.Template.Annotations[resources.AnnotationConfigHash]; h != hash {
		t.Fatalf("the config hash changed (%s → %s): this test wants a template change the hash does not see", hash, h)
	}
	markRolledOut(t, n)
	waitForStatus(t, n, "ready again", conditionIs(v1alpha1.ConditionReady, metav1.ConditionTrue, "AllNodesReady"))
	time.Sleep(time.Second)
	if c := eventCount(t, n, "NetworkReady"); c != 2 {
		t.Errorf("%d NetworkReady events, want 2: one before the roll-out, one after", c)
	}
}

// TestPodsTheStatefulSetDoesNotControlAreNoNodes: a pod that carries the
// network's labels and a node's name, but that the network's StatefulSet
// does not control, shows up nowhere in the status.
func TestPodsTheStatefulSetDoesNotControlAreNoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "genuine", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Nodes, n.Spec.Topology = ptr.To[int32](2), v1alpha1.TopologyNone
	})
	sts := get(t, ns, "genuine", &appsv1.StatefulSet{})
	createNodePod(t, n, 0, "127.0.13.1", true, sts.Spec.Template.Annotations[resources.AnnotationConfigHash])
	impostor := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "genuine-1", Namespace: ns, Labels: resources.Labels(n)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "bitcoind", Image: testBitcoindImage}}},
	}
	impostor.Labels["apps.kubernetes.io/pod-index"] = "0" // and it claims node 0's ordinal
	if err := k8s.Create(ctx, impostor); err != nil {
		t.Fatal(err)
	}
	setPodReady(t, impostor, "127.0.13.2", true)
	got := waitForStatus(t, n, "only the controlled pod counted", func(n *v1alpha1.BitcoinNetwork) error {
		if len(n.Status.Nodes) != 1 || n.Status.Nodes[0].IP != "127.0.13.1" || n.Status.CurrentNodes != 1 {
			return fmt.Errorf("nodes %+v, currentNodes %d", n.Status.Nodes, n.Status.CurrentNodes)
		}
		return nil
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionProgressing); c == nil || c.Reason != "Scaling" {
		t.Errorf("Progressing = %+v, want Scaling: one of two nodes exists", c)
	}
}

func TestNetworkPolicyIsAppliedOwnedAndRemovedWhenDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "fenced", nil)
	np := get(t, ns, "fenced-nodes", &networkingv1.NetworkPolicy{})
	assertControlledBy(t, np, n)
	if from := np.Spec.Ingress[1].From[0]; from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != testOperatorNamespace {
		t.Errorf("RPC admitted from %+v, want the operator's namespace %s", from, testOperatorNamespace)
	}
	if len(np.Spec.Egress) != 2 || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("egress %+v (policy types %v), want DNS and the network's own nodes only", np.Spec.Egress, np.Spec.PolicyTypes)
	}
	// Drift is reverted like on every other object.
	np.Spec.Ingress = nil
	if err := k8s.Update(ctx, np); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the policy restored", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(np), np); err != nil {
			return err
		}
		if len(np.Spec.Ingress) != 2 {
			return fmt.Errorf("%d ingress rules", len(np.Spec.Ingress))
		}
		return nil
	})
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.NetworkPolicy = v1alpha1.NetworkPolicyDisabled })
	eventually(t, "the policy removed", func() error {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(np), &networkingv1.NetworkPolicy{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
}

// What a GitOps re-apply or a backup tool adds to a credentials Secret (a
// label, an annotation) restarts nothing: only new credentials change the
// pod template. The StatefulSet's generation counts every template change.
func TestOnlyNewCredentialsChangeThePodTemplate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	user := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-rpc"},
		Data: map[string][]byte{resources.SecretKeyUser: []byte("team"), resources.SecretKeyPassword: []byte("first password")}}
	if err := k8s.Create(ctx, user); err != nil {
		t.Fatal(err)
	}
	generated := createNetwork(t, ns, "gen", nil)
	own := createNetwork(t, ns, "own", func(n *v1alpha1.BitcoinNetwork) { n.Spec.RPCSecretName = "team-rpc" })
	for _, c := range []struct {
		n      *v1alpha1.BitcoinNetwork
		secret string
	}{{generated, "gen-rpc"}, {own, "team-rpc"}} {
		before := get(t, ns, c.n.Name, &appsv1.StatefulSet{})
		secret := get(t, ns, c.secret, &corev1.Secret{})
		secret.Labels = map[string]string{"backup.example.com/policy": "daily"}
		secret.Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "team:/Secret:" + c.secret}
		if err := k8s.Update(ctx, secret); err != nil {
			t.Fatal(err)
		}
		// The operator reconciles the network on the Secret's change (it
		// watches both); give it time to, then look.
		time.Sleep(3 * time.Second)
		after := get(t, ns, c.n.Name, &appsv1.StatefulSet{})
		if after.Generation != before.Generation || after.Spec.Template.Annotations[resources.AnnotationConfigHash] != before.Spec.Template.Annotations[resources.AnnotationConfigHash] {
			t.Errorf("%s: a label and an annotation on Secret %s changed the pod template (generation %d → %d, hash %s → %s)", c.n.Name, c.secret,
				before.Generation, after.Generation, before.Spec.Template.Annotations[resources.AnnotationConfigHash], after.Spec.Template.Annotations[resources.AnnotationConfigHash])
		}
	}
	// A new password does roll the nodes.
	before := get(t, ns, "own", &appsv1.StatefulSet{})
	user = get(t, ns, "team-rpc", &corev1.Secret{})
	user.Data[resources.SecretKeyPassword] = []byte("second password")
	if err := k8s.Update(ctx, user); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new password in the pod template", func() error {
		after := get(t, ns, "own", &appsv1.StatefulSet{})
		if after.Spec.Template.Annotations[resources.AnnotationConfigHash] == before.Spec.Template.Annotations[resources.AnnotationConfigHash] {
			return fmt.Errorf("config hash unchanged")
		}
		return nil
	})
	// The hash is keyed with the network's own key, which never leaves
	// its Secret.
	key := get(t, ns, "own-fingerprint-key", &corev1.Secret{})
	assertControlledBy(t, key, own)
	if len(key.Data[resources.SecretKeyFingerprintKey]) < 32 {
		t.Errorf("fingerprint key of %d bytes", len(key.Data[resources.SecretKeyFingerprintKey]))
	}
}

// A network whose peer check cannot run (its btcd CA is broken) still gets
// a status for its new generation that says why, instead of keeping the
// last one.
func TestABrokenCAIsReportedAtTheNewGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "tls", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Implementation, n.Spec.Image = v1alpha1.ImplementationBtcd, testBtcdImage
	})
	waitForStatus(t, n, "reconciled", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	secret := get(t, ns, "tls-tls", &corev1.Secret{})
	secret.Data[resources.SecretKeyCACert] = []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.PeerCheckInterval = &metav1.Duration{Duration: time.Minute} })
	got := waitForStatus(t, n, "degraded at the new generation", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "SecretInvalid"))
	for _, condType := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionDegraded} {
		c := meta.FindStatusCondition(got.Status.Conditions, condType)
		if c.ObservedGeneration != got.Generation || !strings.Contains(c.Message, "tls-tls") || !strings.Contains(c.Message, "delete the Secret") {
			t.Errorf("%s = %+v, want generation %d and a message naming the Secret and the fix", condType, c, got.Generation)
		}
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse {
		t.Errorf("Ready = %+v with a CA the operator cannot verify its nodes with", c)
	}
	// Deleting the Secret has a new CA issued.
	if err := k8s.Delete(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, n, "recovered", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
}

// A Secret of the network's name that the network does not control is
// never used: one that an earlier network of the same name controls is
// waited for (the garbage collector removes it), any other is reported.
func TestSecretsOfAnotherOwnerAreNotAdopted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "squat-rpc"},
		Data: map[string][]byte{resources.SecretKeyUser: []byte("someone"), resources.SecretKeyPassword: []byte("else")}}
	if err := k8s.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	n := createNetwork(t, ns, "squat", nil)
	got := waitForStatus(t, n, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "SecretNotOwned"))
	if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded); !strings.Contains(c.Message, "squat-rpc") {
		t.Errorf("Degraded = %q, want it to name the Secret", c.Message)
	}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(foreign), foreign); err != nil || string(foreign.Data[resources.SecretKeyUser]) != "someone" {
		t.Errorf("the foreign Secret was changed: %v", err)
	}
	if err := k8s.Delete(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	waitForStatus(t, n, "its own Secret", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionFalse, "Reconciled"))
	assertControlledBy(t, get(t, ns, "squat-rpc", &corev1.Secret{}), n)
}

// A network of node groups: one StatefulSet per group, named and labelled
// by group, one ConfigMap with each group's configuration, one btcd
// configuration Secret for the btcd group; an image change rolls only its
// group, and scaling one group touches no other.
func TestEachGroupGetsItsStatefulSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: "mix", Namespace: ns}}
	n.Spec.Groups = []v1alpha1.NodeGroup{
		{Name: "core29", Nodes: 2},
		{Name: "core30", Nodes: 2, Image: "registry.example/bitcoind:30.0"},
		{Name: "knots", Nodes: 1, Implementation: v1alpha1.ImplementationKnots, Image: "registry.example/knots:29.3"},
		{Name: "btcd", Nodes: 2, Implementation: v1alpha1.ImplementationBtcd, Image: testBtcdImage},
	}
	if err := k8s.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		image    string
		replicas int32
	}{"mix-core29": {testBitcoindImage, 2}, "mix-core30": {"registry.example/bitcoind:30.0", 2}, "mix-knots": {"registry.example/knots:29.3", 1}, "mix-btcd": {testBtcdImage, 2}}
	templates := map[string]string{}
	for name, w := range want {
		sts := get(t, ns, name, &appsv1.StatefulSet{})
		assertControlledBy(t, sts, n)
		group := strings.TrimPrefix(name, "mix-")
		if c := sts.Spec.Template.Spec.Containers[0]; c.Image != w.image || *sts.Spec.Replicas != w.replicas ||
			sts.Spec.Selector.MatchLabels[resources.LabelGroup] != group || sts.Spec.Template.Labels[resources.LabelGroup] != group {
			t.Errorf("%s: image %s, %d replicas, selector %v; want %s, %d, group %s", name, c.Image, *sts.Spec.Replicas, sts.Spec.Selector.MatchLabels, w.image, w.replicas, group)
		}
		templates[name] = sts.Spec.Template.Annotations[resources.AnnotationConfigHash]
	}
	cm := get(t, ns, "mix-config", &corev1.ConfigMap{})
	for _, key := range []string{"core29.conf", "core30.conf", "knots.conf", "btcd.conf"} {
		if cm.Data[key] == "" {
			t.Errorf("ConfigMap lacks %s (has %v)", key, slices.Collect(maps.Keys(cm.Data)))
		}
	}
	if !strings.Contains(cm.Data["btcd.conf"], "[Application Options]") || !strings.Contains(cm.Data["knots.conf"], "rpcbind=::\n") || strings.Contains(cm.Data["knots.conf"], "rpcbind=0.0.0.0") {
		t.Errorf("each group's configuration is its implementation's:\n%s\n%s", cm.Data["btcd.conf"], cm.Data["knots.conf"])
	}
	if btcd := get(t, ns, "mix-btcd-config", &corev1.Secret{}); len(btcd.Data) != 1 || len(btcd.Data["btcd.conf"]) == 0 {
		t.Errorf("btcd configuration Secret keys %v, want btcd.conf only", slices.Collect(maps.Keys(btcd.Data)))
	}
	get(t, ns, "mix-tls", &corev1.Secret{})
	waitForStatus(t, n, "groups in status", func(n *v1alpha1.BitcoinNetwork) error {
		if n.Status.DesiredNodes != 7 || len(n.Status.Groups) != 4 || n.Status.Groups[3].Name != "btcd" || n.Status.Groups[3].Implementation != v1alpha1.ImplementationBtcd ||
			n.Status.Groups[1].Image != "registry.example/bitcoind:30.0" || n.Status.Groups[0].DesiredNodes != 2 {
			return fmt.Errorf("desired %d, groups %+v", n.Status.DesiredNodes, n.Status.Groups)
		}
		return nil
	})

	// The rolling upgrade: one group's image changes, only its template.
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Groups[0].Image = "registry.example/bitcoind:30.0" })
	eventually(t, "core29's new image", func() error {
		if c := get(t, ns, "mix-core29", &appsv1.StatefulSet{}).Spec.Template.Spec.Containers[0]; c.Image != "registry.example/bitcoind:30.0" {
			return fmt.Errorf("image %s", c.Image)
		}
		return nil
	})
	// And one group scales.
	updateNetwork(t, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Groups[3].Nodes = 3 })
	eventually(t, "btcd scaled", func() error {
		if r := *get(t, ns, "mix-btcd", &appsv1.StatefulSet{}).Spec.Replicas; r != 3 {
			return fmt.Errorf("%d replicas", r)
		}
		return nil
	})
	for _, name := range []string{"mix-core30", "mix-knots", "mix-btcd"} {
		sts := get(t, ns, name, &appsv1.StatefulSet{})
		if sts.Generation != 1 && name != "mix-btcd" {
			t.Errorf("%s: generation %d: another group's change touched it", name, sts.Generation)
		}
		if h := sts.Spec.Template.Annotations[resources.AnnotationConfigHash]; h != templates[name] {
			t.Errorf("%s: pod template changed (%s → %s)", name, templates[name], h)
		}
	}
}

// A private signet's key is made once, its challenge configures the
// nodes; a challenge that is no script, or a key Secret that is missing,
// degrades the network naming the field.
func TestAPrivateSignetGetsItsKeyOrSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	n := createNetwork(t, ns, "priv", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Chain, n.Spec.Signet = v1alpha1.ChainSignet, &v1alpha1.SignetSpec{}
	})
	var secret corev1.Secret
	waitForStatus(t, n, "the signet Secret", func(*v1alpha1.BitcoinNetwork) error {
		return k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "priv-signet"}, &secret)
	})
	cm := &corev1.ConfigMap{}
	waitForStatus(t, n, "the challenge in the nodes' configuration", func(*v1alpha1.BitcoinNetwork) error {
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "priv-config"}, cm); err != nil {
			return err
		}
		if want := "signetchallenge=" + string(secret.Data["challenge"]); !strings.Contains(cm.Data["node.conf"], want) {
			return fmt.Errorf("node.conf lacks %s", want)
		}
		return nil
	})

	bad := createNetwork(t, ns, "noscript", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Chain, n.Spec.Signet = v1alpha1.ChainSignet, &v1alpha1.SignetSpec{Challenge: "4c"}
	})
	got := waitForStatus(t, bad, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "SignetChallengeInvalid"))
	if msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message; !strings.Contains(msg, "spec.signet.challenge") {
		t.Errorf("Degraded message %q does not name the field", msg)
	}
	missing := createNetwork(t, ns, "nokey", func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Chain, n.Spec.Signet = v1alpha1.ChainSignet, &v1alpha1.SignetSpec{Challenge: string(secret.Data["challenge"]), KeySecretName: "signer"}
	})
	got = waitForStatus(t, missing, "degraded", conditionIs(v1alpha1.ConditionDegraded, metav1.ConditionTrue, "SignetKeyInvalid"))
	if msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded).Message; !strings.Contains(msg, "spec.signet.keySecretName") || !strings.Contains(msg, "signer") {
		t.Errorf("Degraded message %q does not name the field and the Secret", msg)
	}
}
