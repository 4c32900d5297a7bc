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
// envtest (and the demo) it plays the StatefulSet controller, the garbage
// collector for StatefulSets and the kubelet. Each pod gets its own
// loopback IP; a btcd pod runs a real btcd process with the configuration,
// arguments and Secrets the operator rendered (read back from the API
// server, with mount paths mapped into a work directory and listen
// addresses bound to the pod IP, as a pod's own network namespace would);
// a bitcoind pod runs the fake bitcoind of internal/bitcoin/fake on its IP.
//
// It is test tooling: production code never imports it.
package podsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin/fake"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/status"
)

// Simulator runs the pods of BitcoinNetworks.
type Simulator struct {
	// Client talks to the API server.
	Client client.Client
	// BtcdDir holds the btcd binary (hack/tools.sh btcd).
	BtcdDir string
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
	// reports pod status and finishes deletions: the simulator only runs
	// the nodes, on the IPs the pods were given.
	KubeletSimulated bool
	// Logf, if set, receives one line per action.
	Logf func(format string, args ...any)

	mu      sync.Mutex
	running map[types.UID]*node
	nextIP  int
	fakes   *fake.Network
}

// node is a running pod.
type node struct {
	namespace, name, ip string
	dir                 string
	cmd                 *exec.Cmd
	exited              chan struct{}
	args                []string
	fake                *fake.Node
	server              *http.Server
	rpcPort             int32
	ready               bool
}

func (s *Simulator) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// Run syncs pods until ctx ends, then stops every node it started.
func (s *Simulator) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running == nil {
		s.running, s.fakes, s.nextIP = map[types.UID]*node{}, fake.NewNetwork(), 2
	}
	s.mu.Unlock()
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
	for i := range list.Items {
		sts := &list.Items[i]
		owner := metav1.GetControllerOf(sts)
		if owner != nil {
			err := s.Client.Get(ctx, types.NamespacedName{Namespace: sts.Namespace, Name: owner.Name}, &v1alpha1.BitcoinNetwork{})
			if apierrors.IsNotFound(err) {
				s.logf("garbage-collecting StatefulSet %s/%s", sts.Namespace, sts.Name)
				if err := s.Client.Delete(ctx, sts); client.IgnoreNotFound(err) != nil {
					return err
				}
				continue
			}
		}
		pods := &corev1.PodList{}
		if err := s.Client.List(ctx, pods, client.InNamespace(sts.Namespace), client.MatchingLabels(sts.Spec.Selector.MatchLabels)); err != nil {
			return err
		}
		replicas := int(ptr.Deref(sts.Spec.Replicas, 1))
		existing := map[string]*corev1.Pod{}
		for j := range pods.Items {
			existing[pods.Items[j].Name] = &pods.Items[j]
		}
		for ordinal := 0; ordinal < replicas; ordinal++ {
			name := fmt.Sprintf("%s-%d", sts.Name, ordinal)
			p, ok := existing[name]
			switch {
			case !ok:
				if err := s.createPod(ctx, sts, ordinal); err != nil && !apierrors.IsAlreadyExists(err) {
					return err
				}
			case p.DeletionTimestamp == nil && p.Annotations[resources.AnnotationConfigHash] != sts.Spec.Template.Annotations[resources.AnnotationConfigHash]:
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
	}
	return nil
}

func (s *Simulator) createPod(ctx context.Context, sts *appsv1.StatefulSet, ordinal int) error {
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
	pod.Labels["statefulset.kubernetes.io/pod-name"] = pod.Name
	pod.Spec.Hostname, pod.Spec.Subdomain = pod.Name, sts.Spec.ServiceName
	pod.Spec.NodeName = "podsim"
	// Volumes from claim templates become emptyDirs: nothing provisions
	// PersistentVolumes here.
	for _, vct := range sts.Spec.VolumeClaimTemplates {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: vct.Name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
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
		if s.KubeletSimulated {
			continue
		}
		if err := s.updateStatus(ctx, p, n); err != nil && !apierrors.IsConflict(err) {
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

// updateStatus reports the pod Running with its IP, and Ready when the
// node's RPC port accepts connections (the operator's readiness probes
// for btcd; for the fake bitcoind, its RPC server is its readiness).
func (s *Simulator) updateStatus(ctx context.Context, p *corev1.Pod, n *node) error {
	ready := n.alive() && dialable(n.ip, n.rpcPort)
	s.mu.Lock()
	n.ready = ready
	s.mu.Unlock()
	if p.Status.PodIP == n.ip && status.PodReady(p) == ready {
		return nil
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
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
		{Type: corev1.ContainersReady, Status: status, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: status, LastTransitionTime: now},
	}
	return s.Client.Status().Update(ctx, p)
}

func dialable(ip string, port int32) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(int(port))), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func (n *node) alive() bool {
	if n.fake != nil {
		return true
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

func (s *Simulator) allocateIP() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.nextIP
	s.nextIP++
	return fmt.Sprintf("127.%d.%d.%d", s.Subnet, i/254, i%254+1)
}

// start materializes a pod's volumes, expands its arguments and starts its
// node.
func (s *Simulator) start(ctx context.Context, p *corev1.Pod) (*node, error) {
	c := p.Spec.Containers[0]
	ip := p.Status.PodIP
	if !s.KubeletSimulated {
		ip = s.allocateIP()
	}
	n := &node{namespace: p.Namespace, name: p.Name, ip: ip, exited: make(chan struct{})}
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
	// One pass, longest mount path first, so a mapped path is never
	// mapped again (e.g. /tmp inside the work directory's own path).
	var pairs []string
	for _, m := range mounts {
		pairs = append(pairs, m.from, m.to)
	}
	mapPaths := strings.NewReplacer(pairs...).Replace
	// A pod binds its wildcard addresses in its own network namespace;
	// here that is the pod's loopback IP.
	bindToPodIP := regexp.MustCompile(`(?m)^(listen|rpclisten)=:`)
	for _, m := range mounts {
		if m.configMap {
			if err := rewriteFiles(m.to, func(b string) string { return bindToPodIP.ReplaceAllString(mapPaths(b), "${1}="+n.ip+":") }); err != nil {
				return nil, err
			}
		}
	}
	for _, a := range c.Args {
		n.args = append(n.args, mapPaths(expand(a, env)))
	}
	switch c.Command[0] {
	case "btcd":
		if err := s.startBtcd(n, env); err != nil {
			return nil, err
		}
	case "bitcoind":
		if err := s.startFakeBitcoind(n, p, env); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown node command %q", c.Command[0])
	}
	s.mu.Lock()
	s.running[p.UID] = n
	s.mu.Unlock()
	s.logf("started %s for pod %s/%s on %s", c.Command[0], p.Namespace, p.Name, n.ip)
	return n, nil
}

func (s *Simulator) startBtcd(n *node, env map[string]string) error {
	n.exited = make(chan struct{})
	logFile, err := os.OpenFile(filepath.Join(n.dir, "btcd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.BtcdDir, "btcd"), n.args...)
	cmd.Env = []string{"HOME=" + filepath.Join(n.dir, "data")}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return err
	}
	n.cmd = cmd
	exited := n.exited
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	return nil
}

func (s *Simulator) startFakeBitcoind(n *node, p *corev1.Pod, env map[string]string) error {
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
	ln, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(int(n.rpcPort))))
	if err != nil {
		return err
	}
	n.fake.Start(s.fakes)
	n.server = &http.Server{Handler: n.fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = n.server.Serve(ln) }()
	return nil
}

type mount struct {
	from, to  string
	configMap bool
}

// materializeVolumes writes a pod's configMap and secret volumes into dir
// and creates its emptyDirs, returning mount path mappings, longest first.
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
			for k, val := range cm.Data {
				files[k] = []byte(val)
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
		mounts = append(mounts, mount{from: vm.MountPath, to: to, configMap: v.ConfigMap != nil})
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].from) > len(mounts[j].from) })
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

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) as the kubelet does for container arguments.
func expand(arg string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(arg, func(ref string) string {
		if v, ok := env[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

func rewriteFiles(dir string, f func(string) string) error {
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
		if err := os.WriteFile(path, []byte(f(string(b))), 0o600); err != nil {
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
	n.kill()
	_ = os.RemoveAll(n.dir)
	s.logf("stopped pod %s/%s", n.namespace, n.name)
}

func (n *node) kill() {
	if n.fake != nil {
		_ = n.server.Close()
		n.fake.Stop()
		return
	}
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(5 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
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

// RestartNode kills a pod's node process and starts it again with the same
// arguments and IP, as a kubelet restarts a crashed container. The node
// comes back with no peers.
func (s *Simulator) RestartNode(namespace, pod string) error {
	s.mu.Lock()
	var n *node
	for _, candidate := range s.running {
		if candidate.namespace == namespace && candidate.name == pod {
			n = candidate
		}
	}
	s.mu.Unlock()
	if n == nil {
		return fmt.Errorf("pod %s/%s is not running", namespace, pod)
	}
	n.kill()
	if n.fake != nil {
		n.fake.Start(s.fakes)
		ln, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(int(n.rpcPort))))
		if err != nil {
			return err
		}
		n.server = &http.Server{Handler: n.fake, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = n.server.Serve(ln) }()
		return nil
	}
	return s.startBtcd(n, nil)
}

// NodeIP returns the loopback IP of a running pod.
func (s *Simulator) NodeIP(namespace, pod string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.running {
		if n.namespace == namespace && n.name == pod {
			return n.ip, nil
		}
	}
	return "", errors.New("not running")
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
