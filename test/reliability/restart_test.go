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

package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
)

// kills is how often TestOperatorKilledMidReconcileConverges kills it.
const kills = 20

// snapshot is what must survive operator restarts unchanged.
type snapshot struct {
	password   string
	configHash string
	podUIDs    map[string]types.UID
}

func takeSnapshot(t *testing.T, n *v1alpha1.BitcoinNetwork) snapshot {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: resources.GeneratedRPCSecretName(n)}, secret); err != nil {
		t.Fatal(err)
	}
	sts := &appsv1.StatefulSet{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: resources.StatefulSetName(n)}, sts); err != nil {
		t.Fatal(err)
	}
	pods := &corev1.PodList{}
	if err := k8s.List(ctx, pods, client.InNamespace(n.Namespace), client.MatchingLabelsSelector{Selector: resources.Selector(n)}); err != nil {
		t.Fatal(err)
	}
	s := snapshot{password: string(secret.Data[resources.SecretKeyPassword]), configHash: sts.Spec.Template.Annotations[resources.AnnotationConfigHash], podUIDs: map[string]types.UID{}}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			s.podUIDs[p.Name] = p.UID
		}
	}
	return s
}

// ownedObjects counts, per kind, the objects the network controls.
func ownedObjects(t *testing.T, n *v1alpha1.BitcoinNetwork) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for kind, list := range map[string]client.ObjectList{
		"StatefulSet": &appsv1.StatefulSetList{}, "Service": &corev1.ServiceList{},
		"ConfigMap": &corev1.ConfigMapList{}, "Secret": &corev1.SecretList{},
	} {
		if err := k8s.List(context.Background(), list, client.InNamespace(n.Namespace)); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			counts[kind] += controlledBy(item.(client.Object), n)
		}
	}
	return counts
}

func controlledBy(obj client.Object, n *v1alpha1.BitcoinNetwork) int {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == n.UID && ref.Controller != nil && *ref.Controller {
			return 1
		}
	}
	return 0
}

// TestOperatorKilledMidReconcileConverges kills the operator again and
// again at random moments while it has work to do (the network scales
// between 3 and 4 nodes), each time starting a new one, as a crash-looping
// pod would. The network must converge with no duplicate or orphaned
// object, its generated password unchanged and no node pod rolled.
func TestOperatorKilledMidReconcileConverges(t *testing.T) {
	ns := fixture.NewNamespace(t, k8s)
	n := fixture.CreateNetwork(t, k8s, ns, "crashloop", v1alpha1.ImplementationBtcd, 3)
	first := runOperator(t, envtest.ManagerOptions{})
	fixture.WaitConnected(t, k8s, n, 90*time.Second)
	first.Stop()
	before := takeSnapshot(t, n)

	rng := rand.New(rand.NewPCG(8, 21))
	var lifetimes []time.Duration
	writes := &writeLog{writes: map[string][]time.Time{}}
	busy := 0
	for i := 0; i < kills; i++ {
		fixture.UpdateNetwork(t, k8s, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To(3 + int32(i%2)) })
		life := fmt.Sprint(i)
		m := runOperator(t, envtest.ManagerOptions{WrapClient: writes.recording(life)})
		// Every fourth life is cut short while starting; the others once
		// they have begun to write (how long a start takes depends on the
		// machine's load, not on the operator), at a random moment of
		// their reconciles.
		if i%4 != 3 {
			for deadline := time.Now().Add(30 * time.Second); len(writes.of(life)) == 0 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if len(writes.of(life)) == 0 {
				t.Fatalf("operator %d wrote nothing in 30 s while the network had work to do", i)
			}
			busy++
		}
		lifetime := time.Duration(rng.IntN(1500)) * time.Millisecond
		lifetimes = append(lifetimes, lifetime)
		time.Sleep(lifetime)
		m.Stop()
	}
	fixture.UpdateNetwork(t, k8s, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](3) })
	runOperator(t, envtest.ManagerOptions{})
	fixture.WaitConnected(t, k8s, n, 120*time.Second)
	fixture.Eventually(t, 30*time.Second, "the fourth node gone", func() error {
		if after := takeSnapshot(t, n); len(after.podUIDs) != 3 {
			return fmt.Errorf("pods %v", after.podUIDs)
		}
		return nil
	})
	after := takeSnapshot(t, n)
	t.Logf("killed the operator %d times, %v after its first write (or its start); %d of them had written", kills, lifetimes, busy)
	if after.password != before.password {
		t.Error("the generated RPC password changed")
	}
	if after.configHash != before.configHash {
		t.Errorf("the pod template's config hash changed from %s to %s", before.configHash, after.configHash)
	}
	for name, uid := range before.podUIDs {
		if after.podUIDs[name] != uid {
			t.Errorf("pod %s was replaced (uid %s → %s) although nothing about it changed", name, uid, after.podUIDs[name])
		}
	}
	if got := ownedObjects(t, n); got["StatefulSet"] != 1 || got["Service"] != 1 || got["ConfigMap"] != 1 || got["Secret"] != 4 {
		t.Errorf("objects the network controls: %v, want one StatefulSet, Service and ConfigMap and four Secrets (RPC, TLS, btcd configuration, fingerprint key)", got)
	}
}

// writeLog records which manager wrote to the API server, and when.
type writeLog struct {
	mu     sync.Mutex
	writes map[string][]time.Time
	// what describes each write, in the same order, and ns is the
	// namespace of its object.
	what, ns map[string][]string
}

func (w *writeLog) record(who, namespace, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes[who] = append(w.writes[who], time.Now())
	if w.what == nil {
		w.what, w.ns = map[string][]string{}, map[string][]string{}
	}
	w.what[who] = append(w.what[who], what)
	w.ns[who] = append(w.ns[who], namespace)
}

// in lists the descriptions of who's writes to objects in namespace.
func (w *writeLog) in(who, namespace string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for i, ns := range w.ns[who] {
		if ns == namespace {
			out = append(out, w.what[who][i])
		}
	}
	return out
}

func (w *writeLog) described(who string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.what[who])
}

func (w *writeLog) of(who string) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.writes[who])
}

// recording wraps a manager's client so that its writes are logged.
func (w *writeLog) recording(who string) func(client.Client) client.Client {
	return func(c client.Client) client.Client {
		return interceptor.NewClient(withWatch{c}, interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				w.record(who, obj.GetNamespace(), fmt.Sprintf("create %T %s", obj, obj.GetName()))
				return c.Create(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				w.record(who, obj.GetNamespace(), fmt.Sprintf("patch %T %s", obj, obj.GetName()))
				return c.Patch(ctx, obj, patch, opts...)
			},
			Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				var meta struct {
					Metadata struct{ Namespace, Name string }
				}
				raw, _ := json.Marshal(obj)
				_ = json.Unmarshal(raw, &meta)
				w.record(who, meta.Metadata.Namespace, fmt.Sprintf("apply %s", meta.Metadata.Name))
				return c.Apply(ctx, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				body, _ := patch.Data(obj)
				w.record(who, obj.GetNamespace(), fmt.Sprintf("patch %s of %T %s: %s", sub, obj, obj.GetName(), body))
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		})
	}
}

// TestLeaderElectionHandsOverWithoutBothActing runs two operators with
// leader election; only the leader writes. The leader is killed without
// releasing its lease; the other takes over once the lease runs out and
// finishes the work (a scale), and at no time do both write.
func TestLeaderElectionHandsOverWithoutBothActing(t *testing.T) {
	ns := fixture.NewNamespace(t, k8s)
	const lease = 4 * time.Second
	log := &writeLog{writes: map[string][]time.Time{}}
	managers := map[string]*envtest.Manager{}
	for _, who := range []string{"a", "b"} {
		managers[who] = runOperator(t, envtest.ManagerOptions{LeaderElection: true, LeaderElectionNamespace: ns, LeaseDuration: lease, WrapClient: log.recording(who)})
	}
	n := fixture.CreateNetwork(t, k8s, ns, "ha", v1alpha1.ImplementationBtcd, 3)
	fixture.WaitConnected(t, k8s, n, 90*time.Second)
	leader, follower := "a", "b"
	if len(log.of("a")) == 0 {
		leader, follower = "b", "a"
	}
	if len(log.of(leader)) == 0 || len(log.of(follower)) != 0 {
		t.Fatalf("writes before the kill: a %d, b %d; want only the leader's", len(log.of("a")), len(log.of("b")))
	}

	managers[leader].Stop()
	killed := time.Now()
	fixture.UpdateNetwork(t, k8s, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](4) })
	fixture.WaitConnected(t, k8s, n, 90*time.Second)
	followerWrites := log.of(follower)
	if len(followerWrites) == 0 {
		t.Fatal("the follower never wrote")
	}
	takeover := followerWrites[0].Sub(killed)
	t.Logf("the follower's first write came %v after the leader was killed (lease %v)", takeover, lease)
	// It may take over only once the lease has run out, and must by then
	// plus a few retry periods.
	if takeover > lease+2*time.Second {
		t.Errorf("take-over after %v, want within the lease duration (%v) and two retry periods", takeover, lease)
	}
	for _, w := range log.of(leader) {
		if w.After(killed) {
			t.Errorf("the killed leader wrote at %v, after it was killed at %v", w, killed)
		}
	}
	for _, w := range followerWrites {
		if w.Before(killed) {
			t.Errorf("the follower wrote at %v while the leader still ran", w)
		}
	}
}

// withWatch lets an interceptor wrap a manager's client, which cannot
// watch; the operator never calls Watch on it.
type withWatch struct{ client.Client }

func (withWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("the operator's client does not watch")
}

// The initial blocks are mined once, however often the operator is killed
// around them: each operator reads the chain's height (and the height
// recorded in status) before it mines.
func TestInitialBlocksAreMinedOnceAcrossOperatorRestarts(t *testing.T) {
	ns := fixture.NewNamespace(t, k8s)
	n := fixture.CreateNetworkWith(t, k8s, ns, "genesis", v1alpha1.ImplementationBtcd, 3, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 150}
	})
	rng := rand.New(rand.NewPCG(3, 7))
	for i := 0; i < 8; i++ {
		m := runOperator(t, envtest.ManagerOptions{})
		time.Sleep(time.Duration(2000+rng.IntN(3000)) * time.Millisecond)
		m.Stop()
	}
	runOperator(t, envtest.ManagerOptions{})
	heights := func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		if n.Status.Mining == nil || n.Status.Mining.InitialBlocksHeight != 150 {
			return fmt.Errorf("status.mining %+v", n.Status.Mining)
		}
		if len(n.Status.Nodes) != 3 {
			return fmt.Errorf("%d nodes", len(n.Status.Nodes))
		}
		for _, node := range n.Status.Nodes {
			c, err := podsim.NodeClient(context.Background(), k8s, n, node, rpcTimeout)
			if err != nil {
				return err
			}
			if h, err := c.BlockCount(context.Background()); err != nil || h != 150 {
				return fmt.Errorf("%s at height %d, %v", node.Name, h, err)
			}
		}
		return nil
	}
	fixture.Eventually(t, 90*time.Second, "150 blocks on every node", heights)
	// Two more checks (5 s apart) mine nothing.
	time.Sleep(11 * time.Second)
	if err := heights(); err != nil {
		t.Error(err)
	}
}

// An unchanged network costs the API server no write: the operator's
// reconciles (here woken every 5 s by a touched pod) find their apply
// requests identical to the last ones, for objects still at the
// resourceVersion those returned, and the status unchanged, while the peer
// check still runs every interval.
func TestAnUnchangedNetworkCostsNoWrites(t *testing.T) {
	ctx := context.Background()
	ns := fixture.NewNamespace(t, k8s)
	// bitcoind (real Core where available, else the fake): btcd drops and
	// remakes connections by itself now and then, which is a change.
	n := fixture.CreateNetworkWith(t, k8s, ns, "steady", v1alpha1.ImplementationBitcoind, 3, func(n *v1alpha1.BitcoinNetwork) {
		n.Spec.Regtest = &v1alpha1.RegtestSpec{InitialBlocks: 1}
	})
	writes := &writeLog{writes: map[string][]time.Time{}}
	runOperator(t, envtest.ManagerOptions{WrapClient: writes.recording("operator")})
	fixture.WaitConnected(t, k8s, n, 90*time.Second)
	// Only this network's objects count: the operator also reconciles the
	// networks earlier tests left (btcd ones reconnect now and then).
	fixture.Eventually(t, 60*time.Second, "the network settled (no write for 6 s)", func() error {
		was := len(writes.in("operator", ns))
		time.Sleep(6 * time.Second)
		if now := len(writes.in("operator", ns)); now != was {
			return fmt.Errorf("%d writes in 6 s", now-was)
		}
		return nil
	})
	before, checksBefore := len(writes.in("operator", ns)), peerChecks(t, ns, "steady")
	window := 60 * time.Second
	for start, i := time.Now(), 0; time.Since(start) < window; i++ {
		pod := &corev1.Pod{}
		must(t, k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "steady-0"}, pod))
		patch := client.MergeFrom(pod.DeepCopy())
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations["test.network-operator.dev/touched"] = fmt.Sprint(i)
		must(t, k8s.Patch(ctx, pod, patch))
		time.Sleep(5 * time.Second)
	}
	written := writes.in("operator", ns)[before:]
	checks := peerChecks(t, ns, "steady") - checksBefore
	t.Logf("in %v: %d API writes by the operator for this network, %v peer checks", window, len(written), checks)
	if len(written) != 0 {
		t.Errorf("the operator wrote %d times to an unchanged network: %q", len(written), written)
	}
	// The check interval is 5 s (and pod events add passes).
	if checks < 10 {
		t.Errorf("%v peer checks in %v, want one every 5 s at least", checks, window)
	}
}

// peerChecks reads the operator's bitcoin_network_peer_checks_total for a
// network from the process's metrics registry.
func peerChecks(t *testing.T, ns, name string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	must(t, err)
	for _, f := range families {
		if f.GetName() != "bitcoin_network_peer_checks_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["network"] == name {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
