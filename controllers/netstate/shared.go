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

package netstate

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// GroupStatefulSet is a group's StatefulSet as the cache has it; nil when
// there is none yet.
func GroupStatefulSet(ctx context.Context, c client.Reader, n *v1alpha1.BitcoinNetwork, g resources.Group) (*appsv1.StatefulSet, error) {
	sts := &appsv1.StatefulSet{}
	name := resources.GroupStatefulSetName(n, g)
	switch err := c.Get(ctx, types.NamespacedName{Namespace: n.Namespace, Name: name}, sts); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading StatefulSet %s: %w", name, err)
	}
	return sts, nil
}

// NetworkPods are the live pods carrying the network's labels, from the
// cache (status.GroupPods tells each group's own). They are the cache's
// own objects, not copies (a network of 1000 nodes is listed on every
// reconcile of both controllers): callers only read them.
func NetworkPods(ctx context.Context, c client.Reader, n *v1alpha1.BitcoinNetwork) ([]*corev1.Pod, error) {
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(n.Namespace), client.MatchingLabelsSelector{Selector: resources.Selector(n)},
		client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	all := make([]*corev1.Pod, len(pods.Items))
	for i := range pods.Items {
		all[i] = &pods.Items[i]
	}
	return status.ControlledPods(all, nil), nil
}

// GroupNodes are a network's groups with their StatefulSets and node pods,
// from the cache.
func GroupNodes(ctx context.Context, c client.Reader, n *v1alpha1.BitcoinNetwork) ([]GroupPods, error) {
	pods, err := NetworkPods(ctx, c, n)
	if err != nil {
		return nil, err
	}
	var out []GroupPods
	for _, g := range resources.Groups(n) {
		sts, err := GroupStatefulSet(ctx, c, n, g)
		if err != nil {
			return nil, err
		}
		out = append(out, GroupPods{Group: g, Pods: status.GroupPods(pods, resources.GroupStatefulSetName(n, g), sts)})
	}
	return out, nil
}

// GroupPods are a group and its node pods.
type GroupPods struct {
	resources.Group
	Pods []*corev1.Pod
}

// Wake queues a network on a controller's channel source, waiting at most
// as long as ctx allows (the source drains the channel continuously).
func Wake(ctx context.Context, ch chan<- event.GenericEvent, key types.NamespacedName) {
	obj := &v1alpha1.BitcoinNetwork{}
	obj.Namespace, obj.Name = key.Namespace, key.Name
	select {
	case ch <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	case <-time.After(time.Minute):
	}
}

// NetworkOfPod maps a node pod to its network through its labels.
func NetworkOfPod(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	if l[resources.LabelManagedBy] != resources.ManagedByValue || l[resources.LabelInstance] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: l[resources.LabelInstance]}}}
}

// NetworkOfFault maps a BitcoinNetworkFault to the network it names.
func NetworkOfFault(_ context.Context, o client.Object) []reconcile.Request {
	f, ok := o.(*v1alpha1.BitcoinNetworkFault)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: f.Namespace, Name: f.Spec.NetworkName}}}
}

// maxRetryDelay caps the backoff of a failing reconcile: controller-runtime's
// default grows to 16 minutes, so a network would stay stale that long after
// an API server outage; a minute is as long as a peer check may wait.
const maxRetryDelay = time.Minute

// RetryLimiter is controller-runtime's default rate limiter (per-item
// exponential backoff from 5 ms, overall 10 qps with bursts of 100) with
// the backoff capped at maxRetryDelay.
func RetryLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}
