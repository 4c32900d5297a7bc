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

// Package podsim runs bitcoin nodes for pods that no kubelet runs: in
// envtest it plays the StatefulSet controller, the garbage collector for
// StatefulSets and the kubelet; on a local cluster (kwok as the kubelet) it
// runs the nodes and reports their readiness. Each pod gets its own
// loopback IP and runs a real node process with the configuration,
// arguments and Secrets the operator rendered (read back from the API
// server, with mount paths mapped into a work directory and wildcard
// listen addresses bound to the pod IP, as a pod's own network namespace
// would): btcd for btcd pods, Bitcoin Core's bitcoind for bitcoind pods
// when BitcoindDir is set (else the fake bitcoind of internal/bitcoin/fake).
// A pod is Ready only while its rendered readiness probe succeeds: the
// probe's own command (bitcoin-cli) or TCP check, run against the pod.
//
// It is test tooling: production code never imports it.
package podsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin/fake"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/realnode"
)

// Simulator runs the pods of BitcoinNetworks.
type Simulator struct {
	// Client talks to the API server.
	Client client.Client
	// BtcdDir holds the btcd binary (hack/tools.sh btcd).
	BtcdDir string
	// BitcoindDir holds Bitcoin Core's bitcoind and bitcoin-cli (see
	// realnode.BitcoindDir); empty runs the fake bitcoind instead.
	BitcoindDir string
	// WorkDir holds each pod's volumes and logs.
	WorkDir string
	// Subnet is the /16 of loopback addresses pods get, e.g. 60 for
	// 127.60.0.0/16. Different simulators must use different subnets.
	Subnet int
	// EmulateStatefulSets makes the simulator create and delete pods for
	// StatefulSets, and delete StatefulSets whose network is gone (envtest
	// has neither a StatefulSet controller nor a garbage collector).
	EmulateStatefulSets bool
	// KubeletSimulated means another component (kwok) assigns pod IPs,
	// reports pod phases and finishes deletions: the simulator runs the
	// nodes on the IPs the pods were given and reports their readiness.
	KubeletSimulated bool
	// ProbeInterval is how often readiness probes run, at most the probe's
	// own period; default 500ms (a kubelet's 10 s periods would only make
	// tests slow).
	ProbeInterval time.Duration
	// Logf, if set, receives one line per action.
	Logf func(format string, args ...any)

	mu      sync.Mutex
	running map[types.UID]*node
	nextIP  int
	fakes   *fake.Network
	holds   map[string]bool
	reuse   map[string]string
}

// node is a running pod.
type node struct {
	namespace, name, ip string
	dir                 string
	binary              string
	args, env           []string
	rpcPort             int32
	probe               probe
	// binDir holds the node's commands (bitcoind and bitcoin-cli, or
	// btcd); mapPaths maps the pod's paths into its work directory.
	binDir      string
	mapPaths    func(string) string
	ready       atomic.Bool
	stopProbing chan struct{}
	// readinessHeld freezes the pod's reported readiness: a kubelet notices
	// a hung or replaced process only after several probe periods.
	readinessHeld atomic.Bool

	mu     sync.Mutex
	proc   *realnode.Process
	gate   *realnode.WarmupGate
	fake   *fake.Node
	server *http.Server
	// replacement serves in the node's place (see ReplaceRPC).
	replacement *http.Server
}

// probe is a pod's readiness probe, mapped onto the pod: a command (argv
// with an absolute binary) or a TCP address.
type probe struct {
	command          []string
	tcp              string
	timeout          time.Duration
	failureThreshold int
}

func (s *Simulator) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// Run syncs pods until ctx ends, then stops every node it started.
func (s *Simulator) Run(ctx context.Context) error {
	s.init()
	defer s.StopAll()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if s.EmulateStatefulSets {
			if err := s.syncStatefulSets(ctx); err != nil && ctx.Err() == nil {
				s.logf("statefulsets: %v", err)
			}
		}
		if err := s.syncPods(ctx); err != nil && ctx.Err() == nil {
			s.logf("pods: %v", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Simulator) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running, s.fakes, s.nextIP, s.holds, s.reuse = map[types.UID]*node{}, fake.NewNetwork(), 2, map[string]bool{}, map[string]string{}
	}
}

var managed = client.MatchingLabels{resources.LabelManagedBy: resources.ManagedByValue}

// syncStatefulSets does what the StatefulSet controller and the garbage
// collector would: pods 0..replicas-1 exist with the current template,
// others go, and StatefulSets of deleted networks go with their pods.
func (s *Simulator) syncStatefulSets(ctx context.Context) error {
	list := &appsv1.StatefulSetList{}
	if err := s.Client.List(ctx, list, managed); err != nil {
		return err
	}
	// Pods whose StatefulSet is gone go too (garbage collection).
	live := map[types.UID]bool{}
	for _, sts := range list.Items {
		if sts.DeletionTimestamp == nil {
			live[sts.UID] = true
		}
	}
	orphans := &corev1.PodList{}
	if err := s.Client.List(ctx, orphans, managed); err != nil {
		return err
	}
	for i := range orphans.Items {
		p := &orphans.Items[i]
		if owner := metav1.GetControllerOf(p); owner != nil && owner.Kind == "StatefulSet" && !live[owner.UID] && p.DeletionTimestamp == nil {
			s.logf("garbage-collecting pod %s/%s", p.Namespace, p.Name)
			if err := s.Client.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	if err := s.collectGarbage(ctx); err != nil {
		return err
	}
	for i := range list.Items {
		sts := &list.Items[i]
		if gone, err := s.ownerGone(ctx, sts); err != nil || gone {
			if err != nil {
				return err
			}
			continue
		}
		pods := &corev1.PodList{}
		if err := s.Client.List(ctx, pods, client.InNamespace(sts.Namespace), client.MatchingLabels(sts.Spec.Selector.MatchLabels)); err != nil {
			return err
		}
		replicas := int(ptr.Deref(sts.Spec.Replicas, 1))
		revision := templateRevision(sts)
		existing := map[string]*corev1.Pod{}
		for j := range pods.Items {
			existing[pods.Items[j].Name] = &pods.Items[j]
		}
		for ordinal := 0; ordinal < replicas; ordinal++ {
			name := fmt.Sprintf("%s-%d", sts.Name, ordinal)
			p, ok := existing[name]
			switch {
			case !ok:
				if err := s.createPod(ctx, sts, ordinal, revision); err != nil && !apierrors.IsAlreadyExists(err) {
					return err
				}
			case p.DeletionTimestamp == nil && p.Labels[appsv1.ControllerRevisionHashLabelKey] != revision:
				s.logf("rolling pod %s/%s to the new template", p.Namespace, p.Name)
				if err := s.Client.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
					return err
				}
			}
		}
		for name, p := range existing {
			ordinal, err := strconv.Atoi(strings.TrimPrefix(name, sts.Name+"-"))
			if err == nil && ordinal >= replicas && p.DeletionTimestamp == nil {
				s.logf("scaling down: deleting pod %s/%s", p.Namespace, name)
				if err := s.Client.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
					return err
				}
			}
		}
		if err := s.updateStatefulSetStatus(ctx, sts, pods.Items, revision); err != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

// coreDir is the directory of the Bitcoin Core build a pod's image names
// (see realnode.ReleaseOfImage): BitcoindDir for v29.3.
func (s *Simulator) coreDir(image string) (string, error) {
	release := realnode.ReleaseOfImage(image)
	if release == "" {
		return s.BitcoindDir, nil
	}
	return realnode.ReleaseDir(release)
}

// ownerGone reports whether obj's controlling network is gone: no network
// of its name, or one with another UID (the name was taken again), as the
// garbage collector, which goes by UID, sees it. Such an object is deleted.
func (s *Simulator) ownerGone(ctx context.Context, obj client.Object) (bool, error) {
	owner := metav1.GetControllerOf(obj)
	if owner == nil || owner.Kind != "BitcoinNetwork" || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	n := &v1alpha1.BitcoinNetwork{}
	err := s.Client.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: owner.Name}, n)
	switch {
	case err != nil && !apierrors.IsNotFound(err):
		return false, err
	case err == nil && n.UID == owner.UID:
		return false, nil
	}
	s.logf("garbage-collecting %T %s/%s", obj, obj.GetNamespace(), obj.GetName())
	return true, client.IgnoreNotFound(s.Client.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())}))
}

// collectGarbage deletes the Secrets, ConfigMaps, Services and
// NetworkPolicies whose network is gone (StatefulSets are collected in
// syncStatefulSets).
func (s *Simulator) collectGarbage(ctx context.Context) error {
	for _, list := range []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceList{}, &networkingv1.NetworkPolicyList{}} {
		if err := s.Client.List(ctx, list, managed); err != nil {
			return err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, item := range items {
			if _, err := s.ownerGone(ctx, item.(client.Object)); err != nil {
				return err
			}
		}
	}
	return nil
}

// templateRevision names a StatefulSet's pod template, as the controller's
// ControllerRevision names do: a pod labelled with another revision runs an
// older template.
func templateRevision(sts *appsv1.StatefulSet) string {
	b, _ := json.Marshal(sts.Spec.Template)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%s-%x", sts.Name, sum[:5])
}

// updateStatefulSetStatus reports what the StatefulSet controller would:
// the generation it saw, how many pods exist, are ready and run the current
// template, and the current revision once every pod runs the update.
func (s *Simulator) updateStatefulSetStatus(ctx context.Context, sts *appsv1.StatefulSet, pods []corev1.Pod, revision string) error {
	want := appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, UpdateRevision: revision, CurrentRevision: sts.Status.CurrentRevision}
	for _, p := range pods {
		if p.DeletionTimestamp != nil || !metav1.IsControlledBy(&p, sts) {
			continue
		}
		want.Replicas++
		if status.PodReady(&p) {
			want.ReadyReplicas++
			want.AvailableReplicas++
		}
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == revision {
			want.UpdatedReplicas++
		}
	}
	replicas := ptr.Deref(sts.Spec.Replicas, 1)
	if want.CurrentRevision == "" || (want.UpdatedReplicas == replicas && want.ReadyReplicas == replicas && want.Replicas == replicas) {
		want.CurrentRevision = revision
	}
	if want.CurrentRevision == revision {
		want.CurrentReplicas = want.UpdatedReplicas
	} else {
		want.CurrentReplicas = want.Replicas - want.UpdatedReplicas
	}
	if equality.Semantic.DeepEqual(sts.Status, want) {
		return nil
	}
	sts.Status = want
	return s.Client.Status().Update(ctx, sts)
}

func (s *Simulator) createPod(ctx context.Context, sts *appsv1.StatefulSet, ordinal int, revision string) error {
	tmpl := sts.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-%d", sts.Name, ordinal), Namespace: sts.Namespace,
			Labels: tmpl.Labels, Annotations: tmpl.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sts, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))},
		},
		Spec: tmpl.Spec,
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels["apps.kubernetes.io/pod-index"] = strconv.Itoa(ordinal)
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revision
	pod.Labels["statefulset.kubernetes.io/pod-name"] = pod.Name
	pod.Spec.Hostname, pod.Spec.Subdomain = pod.Name, sts.Spec.ServiceName
	pod.Spec.NodeName = "podsim"
	// Volumes from claim templates name their claim, as the StatefulSet
	// controller's do; the simulator keeps a directory per claim (nothing
	// provisions PersistentVolumes here).
	for _, vct := range sts.Spec.VolumeClaimTemplates {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: vct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: vct.Name + "-" + pod.Name}}})
	}
	s.logf("creating pod %s/%s", pod.Namespace, pod.Name)
	return s.Client.Create(ctx, pod)
}

// syncPods starts nodes for new pods, stops them for deleted pods (and
// finishes the deletion, as a kubelet would), and keeps pod status.
func (s *Simulator) syncPods(ctx context.Context) error {
	pods := &corev1.PodList{}
	if err := s.Client.List(ctx, pods, managed); err != nil {
		return err
	}
	seen := map[types.UID]bool{}
	for i := range pods.Items {
		p := &pods.Items[i]
		seen[p.UID] = true
		s.mu.Lock()
		n := s.running[p.UID]
		s.mu.Unlock()
		if p.DeletionTimestamp != nil {
			if n != nil {
				s.stop(p.UID)
			}
			if !s.KubeletSimulated {
				if err := s.Client.Delete(ctx, p, client.GracePeriodSeconds(0)); client.IgnoreNotFound(err) != nil {
					return err
				}
			}
			continue
		}
		if s.KubeletSimulated && p.Status.PodIP == "" {
			continue // not scheduled or not started by kwok yet
		}
		if n == nil {
			var err error
			if n, err = s.start(ctx, p); err != nil {
				s.logf("starting %s/%s: %v", p.Namespace, p.Name, err)
				continue
			}
		}
		update := s.updateStatus
		if s.KubeletSimulated {
			update = s.updateReadiness
		}
		if err := update(ctx, p, n); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return err
		}
	}
	s.mu.Lock()
	var gone []types.UID
	for uid := range s.running {
		if !seen[uid] {
			gone = append(gone, uid)
		}
	}
	s.mu.Unlock()
	for _, uid := range gone {
		s.stop(uid)
	}
	return nil
}

// updateStatus reports the pod Running with its IP, and Ready while its
// readiness probe succeeds.
func (s *Simulator) updateStatus(ctx context.Context, p *corev1.Pod, n *node) error {
	ready := n.ready.Load()
	if p.Status.PodIP == n.ip && status.PodReady(p) == ready {
		return nil
	}
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP, p.Status.PodIPs, p.Status.HostIP = n.ip, []corev1.PodIP{{IP: n.ip}}, "127.0.0.1"
	if p.Status.StartTime == nil {
		p.Status.StartTime = &now
	}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	setReadiness(p, ready, now)
	return s.Client.Status().Update(ctx, p)
}

// updateReadiness corrects the readiness kwok reported (it marks every
// running pod Ready at once) to what the pod's probe says.
func (s *Simulator) updateReadiness(ctx context.Context, p *corev1.Pod, n *node) error {
	ready := n.ready.Load()
	if p.Status.Phase != corev1.PodRunning || status.PodReady(p) == ready {
		return nil
	}
	s.logf("pod %s/%s ready=%v", p.Namespace, p.Name, ready)
	setReadiness(p, ready, metav1.Now())
	return s.Client.Status().Update(ctx, p)
}

// setReadiness sets the Ready and ContainersReady conditions and the
// containers' ready flags, as a kubelet does after a probe.
func setReadiness(p *corev1.Pod, ready bool, now metav1.Time) {
	cs := corev1.ConditionFalse
	if ready {
		cs = corev1.ConditionTrue
	}
	for _, t := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
		found := false
		for i := range p.Status.Conditions {
			if c := &p.Status.Conditions[i]; c.Type == t {
				found = true
				if c.Status != cs {
					c.Status, c.LastTransitionTime = cs, now
				}
			}
		}
		if !found {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: cs, LastTransitionTime: now})
		}
	}
	for i := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[i].Ready = ready
	}
}

// alive reports whether the pod's node runs.
func (n *node) alive() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fake != nil {
		return n.server != nil
	}
	return n.proc != nil && n.proc.Alive()
}

// probeLoop runs the pod's readiness probe until the pod stops, as a
// kubelet does: a success makes it ready, failureThreshold failures in a
// row (or its process exiting) unready.
func (s *Simulator) probeLoop(n *node, period time.Duration) {
	failures := 0
	for {
		switch {
		case n.readinessHeld.Load():
		case !n.alive():
			failures = 0
			n.ready.Store(false)
		case n.runProbe():
			failures = 0
			n.ready.Store(true)
		default:
			if failures++; failures >= n.probe.failureThreshold {
				n.ready.Store(false)
			}
		}
		select {
		case <-n.stopProbing:
			return
		case <-time.After(period):
		}
	}
}

func (n *node) runProbe() bool {
	if n.fake != nil {
		// The fake has no cookie file for bitcoin-cli: its probe is that it
		// answers RPC and has finished warming up.
		return !n.fake.WarmingUp() && dialable(n.ip, n.rpcPort)
	}
	if n.probe.tcp != "" {
		conn, err := net.DialTimeout("tcp", n.probe.tcp, n.probe.timeout)
		if err != nil {
			return false
		}
		_ = conn.Close()
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.probe.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.probe.command[0], n.probe.command[1:]...)
	cmd.Env = n.env
	return cmd.Run() == nil
}

func dialable(ip string, port int32) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(int(port))), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func (s *Simulator) allocateIP() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.nextIP
	s.nextIP++
	return fmt.Sprintf("127.%d.%d.%d", s.Subnet, i/254, i%254+1)
}

// start materializes a pod's volumes, expands its arguments, starts its
// node and its readiness probe.
func (s *Simulator) start(ctx context.Context, p *corev1.Pod) (*node, error) {
	c := p.Spec.Containers[0]
	ip := p.Status.PodIP
	if !s.KubeletSimulated {
		s.mu.Lock()
		reused, ok := s.reuse[p.Namespace+"/"+p.Name]
		delete(s.reuse, p.Namespace+"/"+p.Name)
		s.mu.Unlock()
		if ip = reused; !ok {
			ip = s.allocateIP()
		}
	}
	n := &node{namespace: p.Namespace, name: p.Name, ip: ip, stopProbing: make(chan struct{})}
	n.dir = filepath.Join(s.WorkDir, p.Namespace+"-"+p.Name+"-"+string(p.UID)[:8])
	for _, port := range c.Ports {
		if port.Name == resources.PortNameRPC {
			n.rpcPort = port.ContainerPort
		}
	}
	mounts, err := s.materializeVolumes(ctx, p, n.dir)
	if err != nil {
		return nil, err
	}
	env, err := s.environment(ctx, p.Namespace, c.Env)
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, m := range mounts {
		paths[m.from] = m.to
	}
	mapPaths := realnode.PathMapper(paths)
	n.mapPaths = mapPaths
	n.env = []string{"HOME=" + mapPaths(env["HOME"])}
	// A pod binds its wildcard addresses in its own network namespace;
	// here that is the pod's loopback IP.
	mapConfig := func(conf string) (string, error) { return realnode.MapBtcdConfig(mapPaths(conf), n.ip), nil }
	if c.Command[0] == "bitcoind" {
		mapConfig = func(conf string) (string, error) { return realnode.MapBitcoindConfig(mapPaths(conf), n.ip) }
	}
	for _, m := range mounts {
		if m.config {
			if err := rewriteFiles(m.to, mapConfig); err != nil {
				return nil, err
			}
		}
	}
	n.args = realnode.ExpandArgs(c.Args, env, mapPaths)
	if n.probe, err = s.mapProbe(c, n.ip, env, mapPaths); err != nil {
		return nil, err
	}
	s.mu.Lock()
	held := s.holds[p.Namespace+"/"+p.Name]
	delete(s.holds, p.Namespace+"/"+p.Name)
	s.mu.Unlock()
	switch {
	case c.Command[0] == "btcd":
		n.binary = filepath.Join(s.BtcdDir, "btcd")
		n.binDir = s.BtcdDir
	case c.Command[0] == "bitcoind" && s.BitcoindDir != "":
		dir, err := s.coreDir(c.Image)
		if err != nil {
			return nil, err
		}
		n.binary = filepath.Join(dir, "bitcoind")
		n.binDir = dir
		if held {
			if n.gate, err = realnode.NewWarmupGate(n.dir); err != nil {
				return nil, err
			}
			n.args = append(n.args, n.gate.Arg())
		}
	case c.Command[0] == "bitcoind":
		if err := s.startFakeBitcoind(n, p, held); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown node command %q", c.Command[0])
	}
	if n.binary != "" {
		if err := n.startProcess(); err != nil {
			return nil, err
		}
	}
	period := s.ProbeInterval
	if period <= 0 {
		period = 500 * time.Millisecond
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.PeriodSeconds > 0 {
		period = min(period, time.Duration(c.ReadinessProbe.PeriodSeconds)*time.Second)
	}
	go s.probeLoop(n, period)
	s.mu.Lock()
	s.running[p.UID] = n
	s.mu.Unlock()
	s.logf("started %s for pod %s/%s on %s", c.Command[0], p.Namespace, p.Name, n.ip)
	return n, nil
}

// mapProbe maps a container's readiness probe onto the pod: the command's
// binary from the simulator's directories and its paths into the work
// directory, or the TCP check's named port at the pod IP.
func (s *Simulator) mapProbe(c corev1.Container, ip string, env map[string]string, mapPaths func(string) string) (probe, error) {
	rp := c.ReadinessProbe
	if rp == nil {
		return probe{}, fmt.Errorf("container %s has no readiness probe", c.Name)
	}
	pr := probe{timeout: time.Duration(max(rp.TimeoutSeconds, 1)) * time.Second, failureThreshold: int(max(rp.FailureThreshold, 1))}
	switch {
	case rp.Exec != nil:
		dir := s.BitcoindDir
		switch {
		case c.Command[0] == "btcd":
			dir = s.BtcdDir
		case s.BitcoindDir != "":
			var err error
			if dir, err = s.coreDir(c.Image); err != nil {
				return probe{}, err
			}
		}
		pr.command = append([]string{filepath.Join(dir, rp.Exec.Command[0])}, realnode.ExpandArgs(rp.Exec.Command[1:], env, mapPaths)...)
	case rp.TCPSocket != nil:
		port := rp.TCPSocket.Port.IntValue()
		for _, cp := range c.Ports {
			if cp.Name == rp.TCPSocket.Port.String() {
				port = int(cp.ContainerPort)
			}
		}
		pr.tcp = net.JoinHostPort(ip, strconv.Itoa(port))
	default:
		return probe{}, fmt.Errorf("container %s: unsupported readiness probe %+v", c.Name, rp.ProbeHandler)
	}
	return pr, nil
}

// startProcess starts the node's binary with its arguments.
func (n *node) startProcess() error {
	proc, err := realnode.StartProcess(n.binary, n.args, n.env, filepath.Join(n.dir, filepath.Base(n.binary)+".out"))
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.proc = proc
	n.mu.Unlock()
	return nil
}

func (s *Simulator) startFakeBitcoind(n *node, p *corev1.Pod, warmingUp bool) error {
	var p2p int32
	for _, port := range p.Spec.Containers[0].Ports {
		if port.Name == resources.PortNameP2P {
			p2p = port.ContainerPort
		}
	}
	var rpcAuth string
	for _, a := range n.args {
		if v, ok := strings.CutPrefix(a, "-rpcauth="); ok {
			rpcAuth = v
		}
	}
	n.fake = &fake.Node{P2PAddress: net.JoinHostPort(n.ip, strconv.Itoa(int(p2p))), RPCAuth: rpcAuth,
		Chain: p.Labels[resources.LabelChain], RetryInterval: 2 * time.Second}
	n.fake.SetWarmingUp(warmingUp)
	return n.serveFake(s.fakes)
}

// serveFake starts the fake on the network and its RPC server on the pod IP.
func (n *node) serveFake(network *fake.Network) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(int(n.rpcPort))))
	if err != nil {
		return err
	}
	n.fake.Start(network)
	n.mu.Lock()
	n.server = n.fake.Serve(ln)
	n.mu.Unlock()
	return nil
}

type mount struct {
	from, to string
	config   bool // the node configuration (resources.ConfigDir)
}

// materializeVolumes writes a pod's configMap and secret volumes into dir
// and creates its emptyDirs, returning where each mount path went.
func (s *Simulator) materializeVolumes(ctx context.Context, p *corev1.Pod, dir string) ([]mount, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range p.Spec.Volumes {
		volumes[v.Name] = v
	}
	var mounts []mount
	for _, vm := range p.Spec.Containers[0].VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volume %s not found", vm.Name)
		}
		to := filepath.Join(dir, vm.Name)
		if v.PersistentVolumeClaim != nil {
			// A claim outlives its pod: a replaced pod finds its data.
			to = filepath.Join(s.WorkDir, "pvc", p.Namespace, v.PersistentVolumeClaim.ClaimName)
		}
		if err := os.MkdirAll(to, 0o700); err != nil {
			return nil, err
		}
		files := map[string][]byte{}
		switch {
		case v.ConfigMap != nil:
			cm := &corev1.ConfigMap{}
			if err := s.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: v.ConfigMap.Name}, cm); err != nil {
				return nil, err
			}
			if len(v.ConfigMap.Items) == 0 {
				for k, val := range cm.Data {
					files[k] = []byte(val)
				}
			}
			for _, item := range v.ConfigMap.Items {
				files[item.Path] = []byte(cm.Data[item.Key])
			}
		case v.Secret != nil:
			sec := &corev1.Secret{}
			if err := s.Client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: v.Secret.SecretName}, sec); err != nil {
				return nil, err
			}
			if len(v.Secret.Items) == 0 {
				files = sec.Data
			}
			for _, item := range v.Secret.Items {
				files[item.Path] = sec.Data[item.Key]
			}
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(to, name), data, 0o600); err != nil {
				return nil, err
			}
		}
		mounts = append(mounts, mount{from: vm.MountPath, to: to, config: vm.MountPath == resources.ConfigDir})
	}
	return mounts, nil
}

// environment resolves a container's environment, reading Secret
// references from the API server.
func (s *Simulator) environment(ctx context.Context, namespace string, vars []corev1.EnvVar) (map[string]string, error) {
	env := map[string]string{}
	for _, v := range vars {
		switch {
		case v.ValueFrom != nil && v.ValueFrom.SecretKeyRef != nil:
			ref := v.ValueFrom.SecretKeyRef
			sec := &corev1.Secret{}
			if err := s.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, sec); err != nil {
				return nil, fmt.Errorf("env %s: %w", v.Name, err)
			}
			val, ok := sec.Data[ref.Key]
			if !ok {
				return nil, fmt.Errorf("env %s: secret %s has no key %s", v.Name, ref.Name, ref.Key)
			}
			env[v.Name] = string(val)
		default:
			env[v.Name] = v.Value
		}
	}
	return env, nil
}

// rewriteFiles rewrites every file in dir with f.
func rewriteFiles(dir string, f func(string) (string, error)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out, err := f(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// stop ends a pod's node and removes its files.
func (s *Simulator) stop(uid types.UID) {
	s.mu.Lock()
	n := s.running[uid]
	delete(s.running, uid)
	s.mu.Unlock()
	if n == nil {
		return
	}
	close(n.stopProbing)
	if n.gate != nil {
		// A node held in its warm-up cannot shut down: let it go first.
		n.gate.Release()
		defer n.gate.Close()
	}
	n.kill()
	_ = os.RemoveAll(n.dir)
	s.logf("stopped pod %s/%s", n.namespace, n.name)
}

// kill stops the node: SIGTERM, then SIGKILL after a bound.
func (n *node) kill() {
	n.mu.Lock()
	proc, server, replacement := n.proc, n.server, n.replacement
	n.server, n.replacement = nil, nil
	n.mu.Unlock()
	if replacement != nil {
		_ = replacement.Close()
	}
	if n.fake != nil {
		if server != nil {
			_ = server.Close()
		}
		n.fake.Stop()
		return
	}
	if proc != nil {
		proc.Stop(10 * time.Second)
	}
}

// StopAll ends every node.
func (s *Simulator) StopAll() {
	s.mu.Lock()
	var uids []types.UID
	for uid := range s.running {
		uids = append(uids, uid)
	}
	s.mu.Unlock()
	for _, uid := range uids {
		s.stop(uid)
	}
}

// find returns the running node of a pod.
func (s *Simulator) find(namespace, pod string) (*node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.running {
		if n.namespace == namespace && n.name == pod {
			return n, nil
		}
	}
	return nil, fmt.Errorf("pod %s/%s is not running", namespace, pod)
}

// Exec runs a command in a node's pod as kubectl exec does there: the
// command from the node's release (bitcoin-cli beside bitcoind), its
// arguments' pod paths mapped into the pod's work directory, the pod's
// environment. It returns the command's standard output and error.
func (s *Simulator) Exec(ctx context.Context, namespace, pod string, command []string) (stdout, stderr []byte, err error) {
	n, err := s.find(namespace, pod)
	if err != nil {
		return nil, nil, err
	}
	if n.binDir == "" || len(command) == 0 || strings.Contains(command[0], "/") {
		return nil, nil, fmt.Errorf("pod %s/%s: cannot run %q there (a real node runs its release's commands by name)", namespace, pod, command)
	}
	args := make([]string, 0, len(command)-1)
	for _, a := range command[1:] {
		args = append(args, mapArg(a, n.mapPaths))
	}
	cmd := exec.CommandContext(ctx, filepath.Join(n.binDir, command[0]), args...)
	cmd.Env = n.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// mapArg maps the path of an "-option=/path" argument, or a bare path.
func mapArg(a string, mapPaths func(string) string) string {
	if name, value, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") && strings.HasPrefix(value, "/") {
		return name + "=" + mapPaths(value)
	}
	if strings.HasPrefix(a, "/") {
		return mapPaths(a)
	}
	return a
}

// RestartNode kills a pod's node process and starts it again with the same
// arguments, data and IP, as a kubelet restarts a crashed container. The
// node comes back with no peers.
func (s *Simulator) RestartNode(namespace, pod string) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	n.kill()
	if n.fake != nil {
		return n.serveFake(s.fakes)
	}
	return n.startProcess()
}

// The fault injections below act on a pod's node the way failures do on a
// cluster; each has its undo.

// HoldReadiness freezes (or, with false, unfreezes) what the pod reports
// as its readiness: a kubelet marks a hung node unready only after several
// probe periods, while the operator keeps calling it.
func (s *Simulator) HoldReadiness(namespace, pod string, held bool) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	n.readinessHeld.Store(held)
	return nil
}

// KillNode ends a pod's node process, as a crash would; RestartNode brings
// it back.
func (s *Simulator) KillNode(namespace, pod string) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	n.kill()
	return nil
}

// ReplaceRPC stops a pod's node and serves handler on its RPC address
// instead, with the pod still reported Ready: a node that answers garbage.
// RestartNode undoes it (and the readiness must be released).
func (s *Simulator) ReplaceRPC(namespace, pod string, handler http.Handler) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	n.readinessHeld.Store(true)
	n.kill()
	ln, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(int(n.rpcPort))))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	n.mu.Lock()
	n.replacement = srv
	n.mu.Unlock()
	return nil
}

// RestartNodeWithArgs restarts a pod's node process with its arguments
// changed by edit (e.g. other RPC credentials than the Secret's).
func (s *Simulator) RestartNodeWithArgs(namespace, pod string, edit func([]string) []string) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	if n.fake != nil {
		return fmt.Errorf("pod %s/%s runs the fake bitcoind", namespace, pod)
	}
	n.kill()
	original := n.args
	n.args = edit(slices.Clone(original))
	defer func() { n.args = original }()
	return n.startProcess()
}

// ReuseIP gives a pod, when it starts, an IP another pod had: a cluster
// hands a freed pod IP to the next pod, in whatever namespace.
func (s *Simulator) ReuseIP(namespace, pod, ip string) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reuse[namespace+"/"+pod] = ip
}

// HoldWarmup makes the next start of a pod's bitcoind (the pod's first, on
// an empty data directory) stay in its warm-up: its RPC answers -28, so
// its readiness probe fails, until ReleaseWarmup.
func (s *Simulator) HoldWarmup(namespace, pod string) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[namespace+"/"+pod] = true
}

// ReleaseWarmup ends the warm-up of a pod held by HoldWarmup.
func (s *Simulator) ReleaseWarmup(namespace, pod string) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	switch {
	case n.gate != nil:
		n.gate.Release()
	case n.fake != nil:
		n.fake.SetWarmingUp(false)
	default:
		return fmt.Errorf("pod %s/%s was not held in its warm-up", namespace, pod)
	}
	return nil
}

// SignalNode sends a signal to a pod's node process (e.g. SIGSTOP to hang
// it, SIGCONT to resume it).
func (s *Simulator) SignalNode(namespace, pod string, sig os.Signal) error {
	n, err := s.find(namespace, pod)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return fmt.Errorf("pod %s/%s runs no process", namespace, pod)
	}
	return n.proc.Signal(sig)
}

// ProcessView returns what anyone on the node's host can read about a pod's
// node process: its command line and environment (from /proc), separated
// by spaces and newlines.
func (s *Simulator) ProcessView(namespace, pod string) (string, error) {
	n, err := s.find(namespace, pod)
	if err != nil {
		return "", err
	}
	n.mu.Lock()
	proc := n.proc
	n.mu.Unlock()
	if proc == nil {
		return "", fmt.Errorf("pod %s/%s runs no process", namespace, pod)
	}
	var out []string
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", proc.Pid(), f))
		if err != nil {
			return "", err
		}
		out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
	}
	return strings.Join(out, "\n"), nil
}

// NodeIP returns the loopback IP of a running pod.
func (s *Simulator) NodeIP(namespace, pod string) (string, error) {
	n, err := s.find(namespace, pod)
	if err != nil {
		return "", err
	}
	return n.ip, nil
}

// Running lists the running pods as namespace/name, sorted.
func (s *Simulator) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.running {
		out = append(out, n.namespace+"/"+n.name)
	}
	slices.Sort(out)
	return out
}
