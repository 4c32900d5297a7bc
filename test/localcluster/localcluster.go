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

// Package localcluster runs a Kubernetes control plane on this machine for
// end-to-end tests, with no container runtime: etcd and kube-apiserver
// (through envtest, which also creates the service-account signing keys,
// so the TokenRequest API works), the real kube-controller-manager
// (garbage collector, StatefulSet and Deployment controllers) and
// kube-scheduler, and kwok simulating a node and its kubelet (pods get an
// IP and become Ready; nothing runs in them; bitcoin node pods stay unready
// until the pod simulator's probe of the node they run says otherwise). Optionally it adds real OLM:
// its CRDs and its olm and catalog operators as local processes.
//
// Everything it starts is stopped by Stop, also when a test fails, and
// logs go to files under a temporary directory.
package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// NodeName is the simulated node's name.
const NodeName = "kwok-node-0"

// Options say what to start.
type Options struct {
	// PodCIDR is where kwok takes pod IPs from: a loopback range, so a test
	// can start real processes on them (e.g. "127.63.0.0/16").
	PodCIDR string
	// OLM installs OLM's CRDs and runs its olm and catalog operators.
	OLM bool
	// Logf receives progress lines.
	Logf func(format string, args ...any)
}

// Cluster is a running local cluster.
type Cluster struct {
	Config     *rest.Config
	Kubeconfig string
	Client     client.Client
	Dir        string

	env             *ctrlenvtest.Environment
	procs           []*Process
	logf            func(string, ...any)
	cancelInterrupt func()
}

// Process is a process the cluster started.
type Process struct {
	Name   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// Start brings the cluster up and waits until a pod can become Ready.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	dir, err := os.MkdirTemp("", "localcluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, logf: opts.Logf}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	// Ctrl-C must not leave etcd, the API server or OLM running.
	c.cancelInterrupt = envtest.StopOnInterrupt(c.stopAll)
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	kube, err := tool("kube-components")
	if err != nil {
		return nil, err
	}
	olmDir, err := tool("olm")
	if err != nil {
		return nil, err
	}
	assets, err := tool("olm-assets")
	if err != nil {
		return nil, err
	}

	c.logf("starting etcd and kube-apiserver")
	c.env = &ctrlenvtest.Environment{BinaryAssetsDirectory: kube}
	if _, err := c.env.Start(); err != nil {
		return nil, fmt.Errorf("starting the API server: %w", err)
	}
	admin, err := c.env.AddUser(ctrlenvtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	if c.Config, err = clientcmd.RESTConfigFromKubeConfig(kubeconfig); err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(scheme.Scheme); err != nil {
		return nil, err
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: scheme.Scheme}); err != nil {
		return nil, err
	}

	c.logf("starting kube-controller-manager, kube-scheduler and kwok")
	// The node lifecycle controller would mark every pod NotReady without
	// kubelet heartbeats; kwok stands in for the kubelet.
	if _, err := c.StartProcess("kube-controller-manager", nil, filepath.Join(kube, "kube-controller-manager"),
		"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--use-service-account-credentials=false",
		"--authentication-skip-lookup", "--authorization-always-allow-paths=/healthz", "--secure-port=0",
		"--controllers=*,-node-lifecycle-controller"); err != nil {
		return nil, err
	}
	if _, err := c.StartProcess("kube-scheduler", nil, filepath.Join(kube, "kube-scheduler"),
		"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--secure-port=0"); err != nil {
		return nil, err
	}
	stages := filepath.Join(c.Dir, "stages.yaml")
	if err := writeStages(filepath.Join(assets, "stages.yaml"), stages); err != nil {
		return nil, err
	}
	if _, err := c.StartProcess("kwok", nil, filepath.Join(olmDir, "kwok"),
		"--kubeconfig="+c.Kubeconfig, "--config="+stages, "--manage-all-nodes=true",
		"--cidr="+opts.PodCIDR, "--server-address=127.0.0.1:0"); err != nil {
		return nil, err
	}
	if err := c.createNode(ctx); err != nil {
		return nil, err
	}

	if opts.OLM {
		c.logf("installing OLM")
		for _, f := range []string{"olm-crds.yaml", "olmconfigs-crd.yaml"} {
			if err := c.ApplyFile(ctx, filepath.Join(assets, f), ""); err != nil {
				return nil, err
			}
		}
		if err := c.waitCRDsEstablished(ctx); err != nil {
			return nil, err
		}
		if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "olm"}}); err != nil {
			return nil, err
		}
		env := []string{"KUBECONFIG=" + c.Kubeconfig, "OPERATOR_NAMESPACE=olm", "OPERATOR_NAME=olm-operator"}
		if _, err := c.StartProcess("olm", env, filepath.Join(olmDir, "olm"), "--namespace", "olm", "--writeStatusName", ""); err != nil {
			return nil, err
		}
		if _, err := c.StartProcess("catalog", env, filepath.Join(olmDir, "catalog"), "--kubeconfig", c.Kubeconfig, "--namespace", "olm"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func tool(name string) (string, error) {
	cmd := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "tools.sh"), name)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/tools.sh %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// createNode registers the node kwok simulates and lifts the not-ready
// taint that the (disabled) node lifecycle controller would lift.
func (c *Cluster) createNode(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: NodeName, Labels: map[string]string{
			"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": NodeName, "type": "kwok",
		}, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")},
		},
	}
	if err := c.Client.Create(ctx, node); err != nil {
		return fmt.Errorf("creating node: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		cur := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: NodeName}, cur); err != nil {
			return err
		}
		var taints []corev1.Taint
		for _, t := range cur.Spec.Taints {
			if t.Key != corev1.TaintNodeNotReady {
				taints = append(taints, t)
			}
		}
		ready := false
		for _, cond := range cur.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if len(taints) != len(cur.Spec.Taints) {
			cur.Spec.Taints = taints
			if err := c.Client.Update(ctx, cur); err != nil && !strings.Contains(err.Error(), "modified") {
				return err
			}
			continue
		}
		if ready && len(cur.Spec.Taints) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s not ready and untainted: %+v", NodeName, cur.Status.Conditions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitCRDsEstablished waits until every CRD serves: OLM's operators exit
// when their kinds are not yet known to the API server.
func (c *Cluster) waitCRDsEstablished(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		list := &apiextensionsv1.CustomResourceDefinitionList{}
		if err := c.Client.List(ctx, list); err != nil {
			return err
		}
		pending := 0
		for _, crd := range list.Items {
			established := false
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					established = true
				}
			}
			if !established {
				pending++
			}
		}
		if pending == 0 && len(list.Items) > 0 {
			// Discovery lags behind Established by a moment.
			time.Sleep(2 * time.Second)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d CRDs not established", pending)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// StartProcess starts a command whose output goes to DIR/NAME.log, and
// which is killed if the test process dies.
func (c *Cluster) StartProcess(name string, env []string, path string, args ...string) (*Process, error) {
	log, err := os.Create(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, exited: make(chan struct{}), log: log}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	c.procs = append(c.procs, p)
	return p, nil
}

// Stop terminates the process (SIGTERM, then SIGKILL after 10 s).
func (p *Process) Stop() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	_ = p.log.Close()
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Log returns the end of a process's log, for failure messages.
func (c *Cluster) Log(name string, maxBytes int) string {
	b, err := os.ReadFile(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err.Error()
	}
	if len(b) > maxBytes {
		b = b[len(b)-maxBytes:]
	}
	return string(b)
}

// Stop stops everything, newest first, and removes the directory unless
// KEEP_CLUSTER_LOGS is set.
func (c *Cluster) Stop() {
	if c.cancelInterrupt != nil {
		c.cancelInterrupt()
	}
	c.stopAll()
}

func (c *Cluster) stopAll() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].Stop()
	}
	if c.env != nil {
		_ = c.env.Stop()
	}
	if os.Getenv("KEEP_CLUSTER_LOGS") == "" {
		_ = os.RemoveAll(c.Dir)
	} else {
		c.logf("logs kept in %s", c.Dir)
	}
}

// ApplyFile server-side applies every object in a YAML file; namespace,
// when set, is used for namespaced objects without one.
func (c *Cluster) ApplyFile(ctx context.Context, path, namespace string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return c.ApplyYAML(ctx, raw, namespace)
}

// ApplyYAML server-side applies every object in YAML documents.
func (c *Cluster) ApplyYAML(ctx context.Context, raw []byte, namespace string) error {
	objs, err := envtest.DecodeYAML(raw)
	if err != nil {
		return err
	}
	for _, u := range objs {
		if namespace != "" && u.GetNamespace() == "" && u.GetKind() != "CustomResourceDefinition" && u.GetKind() != "Namespace" {
			u.SetNamespace(namespace)
		}
		if err := c.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("localcluster"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}
