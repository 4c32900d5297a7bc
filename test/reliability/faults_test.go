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
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// faults injects API errors into a share of a client's calls, on every
// verb, and counts the reconciles (each begins by reading its network).
type faults struct {
	mu         sync.Mutex
	rng        *rand.Rand
	rate       float64
	injected   map[string]int
	reconciles []time.Time
	// namespace is the test's: only its network's reconciles count
	// (networks and faults other tests left in theirs reconcile too).
	namespace string
}

var faultErrors = []func(verb string) error{
	func(verb string) error {
		return apierrors.NewConflict(schema.GroupResource{Resource: "injected"}, verb, fmt.Errorf("injected conflict"))
	},
	func(verb string) error {
		return apierrors.NewInternalError(fmt.Errorf("injected server error on %s", verb))
	},
	func(verb string) error {
		return apierrors.NewServerTimeout(schema.GroupResource{Resource: "injected"}, verb, 1)
	},
	func(verb string) error { return apierrors.NewTooManyRequests("injected throttling", 1) },
}

// fail decides whether this call fails, and how: the first call of each
// verb does, the others at the rate.
func (f *faults) fail(verb string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.injected[verb] > 0 && f.rng.Float64() >= f.rate {
		return nil
	}
	f.injected[verb]++
	return faultErrors[f.rng.IntN(len(faultErrors))](verb)
}

func (f *faults) wrap(c client.Client) client.Client {
	return interceptor.NewClient(withWatch{c}, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*v1alpha1.BitcoinNetwork); ok && key.Namespace == f.namespace {
				f.mu.Lock()
				f.reconciles = append(f.reconciles, time.Now())
				f.mu.Unlock()
			}
			if err := f.fail("get"); err != nil {
				return err
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := f.fail("list"); err != nil {
				return err
			}
			return c.List(ctx, list, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if err := f.fail("create"); err != nil {
				return err
			}
			return c.Create(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if err := f.fail("apply"); err != nil {
				return err
			}
			return c.Apply(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if err := f.fail("patch " + sub); err != nil {
				return err
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
}

func (f *faults) reconcilesSince(since time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reconciles {
		if r.After(since) {
			n++
		}
	}
	return n
}

// TestAPIFaultsAreRetriedWithBackoffAndConverge fails 15% of the
// operator's API calls, on every verb it uses, with conflicts, server
// errors, timeouts and throttling. The network must still converge to the
// right state, and the retries must back off rather than spin.
func TestAPIFaultsAreRetriedWithBackoffAndConverge(t *testing.T) {
	ns := fixture.NewNamespace(t, k8s)
	f := &faults{rng: rand.New(rand.NewPCG(3, 5)), rate: 0.15, injected: map[string]int{}, namespace: ns}
	runOperator(t, envtest.ManagerOptions{WrapClient: f.wrap})
	n := fixture.CreateNetwork(t, k8s, ns, "flaky", v1alpha1.ImplementationBtcd, 3)
	fixture.WaitConnected(t, k8s, n, 120*time.Second)
	fixture.UpdateNetwork(t, k8s, n, func(n *v1alpha1.BitcoinNetwork) { n.Spec.Nodes = ptr.To[int32](4) })
	fixture.WaitConnected(t, k8s, n, 120*time.Second)

	// Steady state, faults still on: reconciles come from the 5 s peer
	// checks and the retries of failed ones, not from a hot loop.
	const window = 20 * time.Second
	start := time.Now()
	time.Sleep(window)
	perMinute := float64(f.reconcilesSince(start)) * float64(time.Minute) / float64(window)
	f.mu.Lock()
	injected := maps.Clone(f.injected)
	f.mu.Unlock()
	t.Logf("injected faults per verb: %v; %.0f reconciles per minute in steady state", injected, perMinute)
	for _, verb := range []string{"get", "list", "create", "apply", "patch status"} {
		if injected[verb] == 0 {
			t.Errorf("no fault injected on %s: the test did not exercise it", verb)
		}
	}
	// 12 peer checks a minute, each retried a few times when a call fails;
	// a hot loop would be thousands.
	if perMinute > 120 {
		t.Errorf("%.0f reconciles per minute: retries do not back off", perMinute)
	}
	cur := fixture.WaitConnected(t, k8s, n, 30*time.Second)
	if got := ownedObjects(t, cur); got["StatefulSet"] != 1 || got["Service"] != 1 || got["ConfigMap"] != 1 || got["Secret"] != 4 {
		t.Errorf("objects the network controls: %v, want one StatefulSet, Service and ConfigMap and four Secrets (RPC, TLS, btcd configuration, fingerprint key)", got)
	}
}

// nodeEvents counts a reason's events about one node's pod.
func nodeEvents(t *testing.T, ns, pod, reason string) int {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, e := range list.Items {
		if e.Reason == reason && e.Related != nil && e.Related.Name == pod {
			count++
		}
	}
	return count
}

// waitNodeMessage waits until the node's status message contains want
// (and the other nodes have none), and returns the message.
func waitNodeMessage(t *testing.T, n *v1alpha1.BitcoinNetwork, node, want string) string {
	t.Helper()
	var msg string
	fixture.Eventually(t, 30*time.Second, node+" marked", func() error {
		cur := &v1alpha1.BitcoinNetwork{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), cur); err != nil {
			return err
		}
		for _, s := range cur.Status.Nodes {
			switch {
			case s.Name == node && !strings.Contains(s.Message, want):
				return fmt.Errorf("%s: message %q", s.Name, s.Message)
			case s.Name == node:
				msg = s.Message
			case s.Message != "":
				return fmt.Errorf("%s is marked too: %q", s.Name, s.Message)
			}
		}
		return nil
	})
	return msg
}

// TestNodeFaultsMarkOnlyThatNode breaks one node of a real Bitcoin Core
// network at a time: its RPC hangs (SIGSTOP), it dies, it answers garbage,
// it rejects the credentials. Only that node is marked (its status message
// and a NodeUnreachable event), another network is managed all along, and
// once the fault is gone the node is back in the mesh within one check.
func TestNodeFaultsMarkOnlyThatNode(t *testing.T) {
	realnode.RequireBitcoind(t)
	ns := fixture.NewNamespace(t, k8s)
	runOperator(t, envtest.ManagerOptions{})
	n := fixture.CreateNetwork(t, k8s, ns, "faulty", v1alpha1.ImplementationBitcoind, 4)
	other := fixture.CreateNetwork(t, k8s, ns, "bystander", v1alpha1.ImplementationBitcoind, 2)
	fixture.WaitConnected(t, k8s, n, 90*time.Second)
	fixture.WaitConnected(t, k8s, other, 90*time.Second)
	const victim = "faulty-1"
	otherSize := int32(2)
	// Whatever breaks, the other network keeps being managed: it scales.
	bystanderScales := func() {
		t.Helper()
		otherSize++
		fixture.UpdateNetwork(t, k8s, other, func(o *v1alpha1.BitcoinNetwork) { o.Spec.Nodes = ptr.To(otherSize) })
		fixture.WaitConnected(t, k8s, other, 60*time.Second)
	}
	// Back in the mesh within one check (5 s), plus the node's start.
	recovered := func(what string) {
		t.Helper()
		start := time.Now()
		cur := fixture.WaitConnected(t, k8s, n, 15*time.Second)
		for _, s := range cur.Status.Nodes {
			if s.Message != "" {
				t.Errorf("after %s: %s still says %q", what, s.Name, s.Message)
			}
		}
		t.Logf("%s: network Ready and connected again %v after the fault was removed", what, time.Since(start).Round(100*time.Millisecond))
	}

	t.Run("RPC hangs", func(t *testing.T) {
		// A kubelet notices a hung node only after a few probe periods.
		must(t, sim.HoldReadiness(ns, victim, true))
		must(t, sim.SignalNode(ns, victim, syscall.SIGSTOP))
		waitNodeMessage(t, n, victim, "timed out")
		// The chain verdict counts every ready node: one that does not
		// answer leaves it unknown, and is named.
		fixture.Eventually(t, 15*time.Second, "InSync not True while a ready node hangs", func() error {
			cur := &v1alpha1.BitcoinNetwork{}
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), cur); err != nil {
				return err
			}
			c := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionInSync)
			if c == nil || c.Status != metav1.ConditionUnknown || c.Reason != status.ReasonNodeNotAnswering || !strings.Contains(c.Message, victim) ||
				!strings.Contains(c.Message, "3 of 4 ready nodes") {
				return fmt.Errorf("InSync = %+v", c)
			}
			return nil
		})
		fixture.Eventually(t, 10*time.Second, "NodeUnreachable event", func() error {
			if nodeEvents(t, ns, victim, "NodeUnreachable") == 0 {
				return fmt.Errorf("none yet")
			}
			return nil
		})
		bystanderScales()
		must(t, sim.SignalNode(ns, victim, syscall.SIGCONT))
		must(t, sim.HoldReadiness(ns, victim, false))
		recovered("RPC hang")
	})

	t.Run("node dies", func(t *testing.T) {
		must(t, sim.KillNode(ns, victim))
		fixture.Eventually(t, 10*time.Second, "the dead node unready", func() error {
			cur := &v1alpha1.BitcoinNetwork{}
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(n), cur); err != nil {
				return err
			}
			for _, s := range cur.Status.Nodes {
				if s.Name == victim && s.Ready {
					return fmt.Errorf("%s still ready", victim)
				}
				if s.Name != victim && !s.Ready {
					return fmt.Errorf("%s not ready", s.Name)
				}
			}
			return nil
		})
		bystanderScales()
		must(t, sim.RestartNode(ns, victim))
		recovered("restart after death")
	})

	t.Run("node answers garbage", func(t *testing.T) {
		must(t, sim.ReplaceRPC(ns, victim, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>this is no JSON-RPC server</html>"))
		})))
		waitNodeMessage(t, n, victim, "undecodable")
		bystanderScales()
		must(t, sim.RestartNode(ns, victim))
		must(t, sim.HoldReadiness(ns, victim, false))
		recovered("garbage")
	})

	t.Run("node rejects the credentials", func(t *testing.T) {
		// Its rpcauth no longer matches the Secret; bitcoin-cli's cookie
		// still passes the readiness probe.
		must(t, sim.RestartNodeWithArgs(ns, victim, func(args []string) []string {
			return slices.DeleteFunc(args, func(a string) bool { return strings.HasPrefix(a, "-rpcauth=") })
		}))
		waitNodeMessage(t, n, victim, "credentials rejected")
		bystanderScales()
		must(t, sim.RestartNode(ns, victim))
		recovered("credentials")
	})
	if c := nodeEvents(t, ns, "faulty-0", "NodeUnreachable") + nodeEvents(t, ns, "faulty-2", "NodeUnreachable") + nodeEvents(t, ns, "faulty-3", "NodeUnreachable"); c != 0 {
		t.Errorf("%d NodeUnreachable events about healthy nodes", c)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
