//go:build e2e

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

// Package e2e installs the operator the way users do, through OLM, on a
// local cluster (real kube-apiserver, kube-controller-manager with its
// garbage collector and StatefulSet controller, kube-scheduler; kwok
// simulates the kubelet), from the committed file-based catalog served by
// opm. Each release's own operator binary (built from the git commit the
// release was made from; the newest from this tree) runs as a local process
// with the ServiceAccount identity OLM created for it, so the CSV's RBAC is
// what is tested, and the pod simulator runs a real btcd on every node
// pod's IP.
//
//	make e2e
package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	operatorsv1 "github.com/operator-framework/api/pkg/operators/v1"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"go.uber.org/zap/zapcore"
	"golang.org/x/mod/semver"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/localcluster"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
)

const (
	pkg        = "bitcoin-network-operator"
	operatorNS = "bitcoin-network-operator"
	csv010     = pkg + ".v0.1.0"
	csv020     = pkg + ".v0.2.0"
)

// releasedFrom are the git commits the released versions were built from:
// the e2e test runs each release's own operator. The newest version in the
// catalog is this tree.
var releasedFrom = map[string]string{
	"0.1.0": "21088667103668f3f3d6b963f011361a11099ca3",
	"0.2.0": "345ae4935ab880b25d3d9c66dda74742a023cc0b",
	"0.3.0": "068868367f7f029dff27b31b1e2c39eb636eb189",
}

func init() {
	// The libraries the tests use log only errors (envtest would otherwise
	// print controller-runtime's missing-logger warning).
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	for _, add := range []func(*runtime.Scheme) error{operatorsv1alpha1.AddToScheme, operatorsv1.AddToScheme, v1alpha1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme.Scheme); err != nil {
			panic(err)
		}
	}
}

// env is one local cluster with OLM, the catalog, the operator and nodes.
type env struct {
	t       *testing.T
	ctx     context.Context
	cluster *localcluster.Cluster
	c       client.Client
	// managers are the operator binaries by version.
	managers map[string]string
	btcdDir  string
	operator *localcluster.Process
	opIndex  int
	// saKubeconfig authenticates as the operator's ServiceAccount.
	saKubeconfig string
	// catalogs are the addresses opm serves each catalog on, by the
	// release it goes up to.
	catalogs map[string]string
}

func (e *env) step(format string, args ...any) { e.t.Logf("==> "+format, args...) }

func (e *env) eventually(timeout time.Duration, what string, check func() error) {
	e.t.Helper()
	if err := envtest.Poll(timeout, 500*time.Millisecond, check); err != nil {
		e.t.Fatalf("%s: %v\n--- catalog operator log ---\n%s\n--- olm operator log ---\n%s\n--- bitcoin operator log ---\n%s",
			what, err, e.cluster.Log("catalog", 3000), e.cluster.Log("olm", 3000), e.operatorLog())
	}
}

func (e *env) operatorLog() string {
	if e.operator == nil {
		return "(not started)"
	}
	return e.cluster.Log(e.operator.Name, 4000)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tool(t *testing.T, name string) string {
	out, err := exec.Command(filepath.Join(envtest.RepoRoot(), "hack", "tools.sh"), name).Output()
	if err != nil {
		t.Fatalf("hack/tools.sh %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// setup starts the cluster with OLM, serves the catalog's releases up to
// upTo and registers them as a CatalogSource.
func setup(t *testing.T, podCIDR, upTo string) *env {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, btcdDir: tool(t, "btcd"), managers: map[string]string{}}
	e.managers[currentVersion(t)] = filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", e.managers[currentVersion(t)], "./cmd")
	build.Dir = envtest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the operator: %v\n%s", err, out)
	}
	for version, commit := range releasedFrom {
		e.managers[version] = tool(t, "operator@"+commit)
	}
	e.step("starting a local cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, OLM")
	cluster, err := localcluster.Start(ctx, localcluster.Options{PodCIDR: podCIDR, OLM: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	e.cluster, e.c = cluster, cluster.Client

	e.serveCatalog(upTo)

	e.step("starting the pod simulator: real btcd on each node pod's kwok-assigned IP")
	sim := &podsim.Simulator{Client: e.c, BtcdDir: e.btcdDir, WorkDir: t.TempDir(), KubeletSimulated: true}
	simCtx, stopSim := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sim.Run(simCtx); close(done) }()
	t.Cleanup(func() { stopSim(); <-done })
	return e
}

// currentVersion is the version this tree releases (VERSION in the Makefile).
func currentVersion(t *testing.T) string {
	makefile, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VERSION \?= (\S+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("no VERSION in the Makefile")
	}
	return string(m[1])
}

// catalogSource names the CatalogSource that serves releases up to version.
func catalogSource(version string) string { return "bno-" + strings.ReplaceAll(version, ".", "-") }

// serveCatalog serves, with opm, the committed catalog's releases up to
// upTo (a catalog as it was published then), and registers it as a
// CatalogSource.
func (e *env) serveCatalog(upTo string) {
	t := e.t
	dir := t.TempDir()
	writeCatalog(t, dir, upTo)
	port := freePort(t)
	if e.catalogs == nil {
		e.catalogs = map[string]string{}
	}
	e.catalogs[upTo] = fmt.Sprintf("127.0.0.1:%d", port)
	e.step("serving the catalog's releases up to %s with opm on 127.0.0.1:%d", upTo, port)
	if _, err := e.cluster.StartProcess("opm-"+upTo, nil, filepath.Join(tool(t, "opm"), "opm"), "serve", dir,
		"-p", strconv.Itoa(port), "--pprof-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--termination-log", filepath.Join(e.cluster.Dir, "opm-"+upTo+"-termination.log")); err != nil {
		t.Fatal(err)
	}
	cs := &operatorsv1alpha1.CatalogSource{
		ObjectMeta: metav1.ObjectMeta{Name: catalogSource(upTo), Namespace: "olm"},
		Spec: operatorsv1alpha1.CatalogSourceSpec{
			SourceType: operatorsv1alpha1.SourceTypeGrpc, Address: e.catalogs[upTo],
			DisplayName: "bitcoin-network-operator (local, up to " + upTo + ")", Publisher: "e2e",
		},
	}
	if err := e.c.Create(e.ctx, cs); err != nil {
		t.Fatal(err)
	}
	e.waitCatalogReady(cs)
}

// waitCatalogReady waits until OLM's catalog operator has connected to a
// CatalogSource.
func (e *env) waitCatalogReady(cs *operatorsv1alpha1.CatalogSource) {
	e.eventually(2*time.Minute, "CatalogSource READY", func() error {
		if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(cs), cs); err != nil {
			return err
		}
		if cs.Status.GRPCConnectionState == nil || cs.Status.GRPCConnectionState.LastObservedState != "READY" {
			return fmt.Errorf("connection state %+v", cs.Status.GRPCConnectionState)
		}
		return nil
	})
}

// writeCatalog writes the committed catalog's releases up to upTo into dir:
// the catalog as it was published then.
func writeCatalog(t *testing.T, dir, upTo string) {
	var docs []string
	files, err := filepath.Glob(filepath.Join(envtest.RepoRoot(), "catalog", pkg, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	included := func(name string) bool {
		v, ok := strings.CutPrefix(name, pkg+".v")
		return ok && semver.Compare("v"+v, "v"+upTo) <= 0
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := envtest.DecodeYAML(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			switch o.Object["schema"] {
			case "olm.bundle":
				if name, _ := o.Object["name"].(string); !included(name) {
					continue
				}
			case "olm.channel":
				entries, _ := o.Object["entries"].([]any)
				o.Object["entries"] = slices.DeleteFunc(entries, func(e any) bool { return !included(e.(map[string]any)["name"].(string)) })
			}
			b, err := yaml.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.yaml"), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// switchCatalog points the Subscription at another CatalogSource, as a
// newer catalog image would.
func (e *env) switchCatalog(source string) {
	e.eventually(30*time.Second, "switching the Subscription's catalog", func() error {
		sub := &operatorsv1alpha1.Subscription{}
		if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: pkg}, sub); err != nil {
			return err
		}
		sub.Spec.CatalogSource = source
		return e.c.Update(e.ctx, sub)
	})
	e.step("Subscription now follows CatalogSource %s", source)
}

// subscribe creates the operator's namespace, an OperatorGroup for the
// install mode and a Subscription to source starting at startingCSV with
// manual approval.
func (e *env) subscribe(targetNamespaces []string, source, startingCSV string) {
	ctx := e.ctx
	if err := e.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}}); err != nil {
		e.t.Fatal(err)
	}
	og := &operatorsv1.OperatorGroup{
		ObjectMeta: metav1.ObjectMeta{Name: pkg, Namespace: operatorNS},
		Spec:       operatorsv1.OperatorGroupSpec{TargetNamespaces: targetNamespaces},
	}
	if err := e.c.Create(ctx, og); err != nil {
		e.t.Fatal(err)
	}
	sub := &operatorsv1alpha1.Subscription{
		ObjectMeta: metav1.ObjectMeta{Name: pkg, Namespace: operatorNS},
		Spec: &operatorsv1alpha1.SubscriptionSpec{
			CatalogSource: source, CatalogSourceNamespace: "olm",
			Package: pkg, Channel: "stable", StartingCSV: startingCSV,
			InstallPlanApproval: operatorsv1alpha1.ApprovalManual,
		},
	}
	if err := e.c.Create(ctx, sub); err != nil {
		e.t.Fatal(err)
	}
	e.step("Subscription %s/%s created (catalog %s, channel stable, starting at %s, manual approval)", operatorNS, pkg, source, startingCSV)
}

// approve approves the InstallPlan the Subscription currently points at
// for csv, until the CSV exists: OLM may replace a plan with a newer one
// while it resolves, and only the current one counts.
func (e *env) approve(csv string) {
	approved := map[string]bool{}
	e.eventually(3*time.Minute, "InstallPlan for "+csv+" approved and executed", func() error {
		// Done once a plan we approved for csv completed.
		for name := range approved {
			plan := &operatorsv1alpha1.InstallPlan{}
			if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: name}, plan); err == nil &&
				plan.Status.Phase == operatorsv1alpha1.InstallPlanPhaseComplete {
				return nil
			}
		}
		sub := &operatorsv1alpha1.Subscription{}
		if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: pkg}, sub); err != nil {
			return err
		}
		ref := sub.Status.InstallPlanRef
		if ref == nil {
			return fmt.Errorf("subscription has no install plan yet (state %q)", sub.Status.State)
		}
		plan := &operatorsv1alpha1.InstallPlan{}
		if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, plan); err != nil {
			return err
		}
		if !slices.Contains(plan.Spec.ClusterServiceVersionNames, csv) {
			return fmt.Errorf("current install plan %s is for %v", plan.Name, plan.Spec.ClusterServiceVersionNames)
		}
		if !plan.Spec.Approved {
			plan.Spec.Approved = true
			if err := e.c.Update(e.ctx, plan); err != nil {
				return err
			}
			e.step("InstallPlan %s for %s approved", plan.Name, csv)
		}
		approved[plan.Name] = true
		return fmt.Errorf("install plan %s phase %s", plan.Name, plan.Status.Phase)
	})
}

func (e *env) waitCSVSucceeded(name string) *operatorsv1alpha1.ClusterServiceVersion {
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	e.eventually(4*time.Minute, "CSV "+name+" Succeeded", func() error {
		if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: name}, csv); err != nil {
			return err
		}
		if csv.Status.Phase != operatorsv1alpha1.CSVPhaseSucceeded {
			return fmt.Errorf("phase %s: %s", csv.Status.Phase, csv.Status.Message)
		}
		return nil
	})
	e.step("CSV %s Succeeded (its Deployment is Available through kwok)", name)
	return csv
}

// runOperator runs csv's release of the operator with the identity of the
// ServiceAccount OLM created for it, and the environment OLM gave the
// Deployment (WATCH_NAMESPACE, the downward API's namespace, the images).
// The Deployment's pod is simulated, so this process is the operator.
func (e *env) runOperator(csv *operatorsv1alpha1.ClusterServiceVersion) {
	if e.operator != nil {
		e.step("stopping the previous operator process")
		e.operator.Stop()
	}
	spec := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs[0]
	sa := spec.Spec.Template.Spec.ServiceAccountName
	dep := &appsv1.Deployment{}
	if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: spec.Name}, dep); err != nil {
		e.t.Fatal(err)
	}
	watch, ok := dep.Spec.Template.Annotations["olm.targetNamespaces"]
	if !ok {
		e.t.Fatalf("OLM did not annotate Deployment %s with olm.targetNamespaces", dep.Name)
	}
	cs, err := kubernetes.NewForConfig(e.cluster.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(operatorNS).CreateToken(e.ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("TokenRequest for ServiceAccount %s: %v", sa, err)
	}
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["local"] = &clientcmdapi.Cluster{Server: e.cluster.Config.Host, CertificateAuthorityData: e.cluster.Config.CAData}
	kubeconfig.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kubeconfig.Contexts["operator"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: sa}
	kubeconfig.CurrentContext = "operator"
	e.opIndex++
	path := filepath.Join(e.cluster.Dir, fmt.Sprintf("operator-%d.kubeconfig", e.opIndex))
	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		e.t.Fatal(err)
	}
	env := []string{"KUBECONFIG=" + path, "WATCH_NAMESPACE=" + watch}
	for _, v := range spec.Spec.Template.Spec.Containers[0].Env {
		switch {
		case strings.HasPrefix(v.Name, "RELATED_IMAGE_"):
			env = append(env, v.Name+"="+v.Value)
		case v.ValueFrom != nil && v.ValueFrom.FieldRef != nil && v.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			// The downward API a kubelet would fill in.
			env = append(env, v.Name+"="+operatorNS)
		}
	}
	manager, ok := e.managers[csv.Spec.Version.String()]
	if !ok {
		e.t.Fatalf("no operator binary for %s", csv.Spec.Version)
	}
	e.step("running %s's operator as ServiceAccount %s/%s (token from the TokenRequest API), WATCH_NAMESPACE=%q", csv.Name, operatorNS, sa, watch)
	e.saKubeconfig = path
	p, err := e.cluster.StartProcess(fmt.Sprintf("operator-%d", e.opIndex), env, manager,
		"--leader-elect", "--leader-election-namespace="+operatorNS, "--health-probe-bind-address=0",
		"--metrics-bind-address=0", "--peer-check-interval=5s")
	if err != nil {
		e.t.Fatal(err)
	}
	e.operator = p
}

func (e *env) createNetwork(ns, name string, nodes int32) *v1alpha1.BitcoinNetwork {
	if err := e.c.Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		e.t.Fatal(err)
	}
	n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	n.Spec.Nodes, n.Spec.Implementation = ptr.To(nodes), v1alpha1.ImplementationBtcd
	if err := e.c.Create(e.ctx, n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) waitNetworkReady(n *v1alpha1.BitcoinNetwork) *v1alpha1.BitcoinNetwork {
	cur := &v1alpha1.BitcoinNetwork{}
	e.eventually(3*time.Minute, "network Ready with PeersConnected", func() error {
		if e.operator.Exited() {
			return fmt.Errorf("the operator exited")
		}
		if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(n), cur); err != nil {
			return err
		}
		for _, c := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionPeersConnected} {
			cond := meta.FindStatusCondition(cur.Status.Conditions, c)
			if cond == nil || cond.Status != metav1.ConditionTrue || cond.ObservedGeneration != cur.Generation {
				return fmt.Errorf("%s = %+v; nodes %+v", c, cond, cur.Status.Nodes)
			}
		}
		if len(cur.Status.Nodes) != int(ptr.Deref(cur.Spec.Nodes, 3)) {
			return fmt.Errorf("%d nodes in status", len(cur.Status.Nodes))
		}
		return nil
	})
	e.step("network %s/%s Ready: %d nodes, all planned peers connected", n.Namespace, n.Name, len(cur.Status.Nodes))
	return cur
}

// waitRolledOut waits until the network's StatefulSet has rolled every
// pod to its current revision, and every pod is ready.
func (e *env) waitRolledOut(n *v1alpha1.BitcoinNetwork) {
	e.eventually(3*time.Minute, "StatefulSet "+n.Name+" rolled out", func() error {
		sts := &appsv1.StatefulSet{}
		if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(n), sts); err != nil {
			return err
		}
		s, want := sts.Status, ptr.Deref(sts.Spec.Replicas, 1)
		if s.ObservedGeneration < sts.Generation || s.CurrentRevision != s.UpdateRevision || s.UpdatedReplicas != want || s.ReadyReplicas != want {
			return fmt.Errorf("generation %d observed %d, revision %s of %s, %d updated and %d ready of %d",
				sts.Generation, s.ObservedGeneration, s.CurrentRevision, s.UpdateRevision, s.UpdatedReplicas, s.ReadyReplicas, want)
		}
		return nil
	})
}

func (e *env) scale(n *v1alpha1.BitcoinNetwork, nodes int32) {
	e.eventually(30*time.Second, "scaling", func() error {
		if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		n.Spec.Nodes = ptr.To(nodes)
		return e.c.Update(e.ctx, n)
	})
	e.step("scaled %s to %d nodes", n.Name, nodes)
}

// nodePods lists the node pods the operator made in ns.
func (e *env) nodePods(ctx context.Context, ns string) (*corev1.PodList, error) {
	pods := &corev1.PodList{}
	return pods, e.c.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app.kubernetes.io/managed-by": "bitcoin-network-operator"})
}

// podIdentities maps node pod names to UIDs, to tell whether nodes were
// restarted.
func (e *env) podIdentities(ns string) map[string]types.UID {
	pods, err := e.nodePods(e.ctx, ns)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, p := range pods.Items {
		out[p.Name] = p.UID
	}
	return out
}

// podWatch records every pod seen per node pod name (its UID, and the
// StatefulSet revision it was made from), to tell how often an upgrade
// replaced each node and, when too often, why.
type podWatch struct {
	mu   sync.Mutex
	seen map[string][]podSeen
	stop context.CancelFunc
	done chan struct{}
}

// podSeen is one pod of a name: a new UID is a replacement.
type podSeen struct {
	uid      types.UID
	revision string
	created  time.Time
}

func (p podSeen) String() string {
	return fmt.Sprintf("%s (revision %s, created %s)", p.uid, p.revision, p.created.Format(time.TimeOnly))
}

func (e *env) watchPods(ns string) *podWatch {
	ctx, cancel := context.WithCancel(e.ctx)
	w := &podWatch{seen: map[string][]podSeen{}, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			// A failed list is tried again at the next tick.
			if pods, err := e.nodePods(ctx, ns); err == nil {
				w.mu.Lock()
				for _, p := range pods.Items {
					if !slices.ContainsFunc(w.seen[p.Name], func(s podSeen) bool { return s.uid == p.UID }) {
						w.seen[p.Name] = append(w.seen[p.Name], podSeen{p.UID, p.Labels[appsv1.ControllerRevisionHashLabelKey], p.CreationTimestamp.Time})
					}
				}
				w.mu.Unlock()
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return w
}

// finish stops the watch and returns the pods seen per name.
func (w *podWatch) finish() map[string][]podSeen {
	w.stop()
	<-w.done
	return w.seen
}

// upgrade approves the InstallPlan to csv, waits until OLM replaced the
// previous CSV, and runs the new release's operator.
func (e *env) upgrade(from, to string) *operatorsv1alpha1.ClusterServiceVersion {
	e.step("upgrading: approving the InstallPlan to %s", to)
	e.approve(to)
	csv := e.waitCSVSucceeded(to)
	e.eventually(2*time.Minute, "OLM removes "+from, func() error {
		old := &operatorsv1alpha1.ClusterServiceVersion{}
		err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: from}, old)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: phase %s (%v)", old.Status.Phase, err)
	})
	e.step("OLM replaced %s with %s", from, to)
	e.runOperator(csv)
	return csv
}

// upgradeRestarting publishes a catalog up to version, upgrades the
// network's operator from the CSV from to it, waits until the new operator
// has taken over (takenOver) and the network is Ready, and checks that it
// replaced no node pod more than once, and any only if the release notes of
// version say that its upgrade restarts every node once.
func (e *env) upgradeRestarting(from, version string, n *v1alpha1.BitcoinNetwork, takenOver func(*v1alpha1.BitcoinNetwork) error) *v1alpha1.BitcoinNetwork {
	t := e.t
	e.serveCatalog(version)
	e.switchCatalog(catalogSource(version))
	watch := e.watchPods(n.Namespace)
	csv := e.upgrade(from, pkg+".v"+version)
	e.eventually(3*time.Minute, "the "+version+" operator took over", func() error {
		if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(n), n); err != nil {
			return err
		}
		return takenOver(n)
	})
	// Ready can be read before a roll starts (a status written before
	// the new template was applied) and an earlier release's roll can end
	// inside this one's window: the roll-out is waited for, then Ready.
	e.waitRolledOut(n)
	n = e.waitNetworkReady(n)
	seen := watch.finish()
	replaced := 0
	// Each node pod is replaced at most once per upgrade, except by 0.3.0:
	// its credentials fingerprint is of the Secret's UID and
	// resourceVersion (resources.CredentialsHash at 0688683), so any write
	// to the Secret while it takes over rolls the nodes again (seen in CI:
	// the highest ordinal, which a roll-out replaces first, replaced
	// twice). 0.4.0 fingerprints the credentials alone; 0.3.0 is released
	// and cannot change.
	most := 1
	if version == "0.3.0" {
		most = 2
	}
	revisions := map[string]bool{}
	for name, pods := range seen {
		if len(pods)-1 > most {
			t.Errorf("pod %s replaced %d times during the upgrade to %s: %v", name, len(pods)-1, version, pods)
		}
		for _, p := range pods[1:] {
			revisions[p.revision] = true
		}
		if len(pods) > 1 {
			replaced++
		}
	}
	_, notes, _ := strings.Cut(csv.Spec.Description, "### Upgrading to "+version+"\n")
	notes, _, _ = strings.Cut(notes, "###")
	if replaced > 0 && !strings.Contains(notes, "restarts every node once") {
		t.Errorf("the upgrade to %s replaced %d nodes, and its release notes do not say it restarts them: %q", version, replaced, notes)
	}
	e.step("upgrade to %s: %d of %d node pods replaced once, as its release notes say (new pods of revisions %v)", version, replaced, len(seen), slices.Sorted(maps.Keys(revisions)))
	return n
}

func (e *env) configHash(ns, name string) string {
	sts := &appsv1.StatefulSet{}
	if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: ns, Name: name}, sts); err != nil {
		e.t.Fatal(err)
	}
	return sts.Spec.Template.Annotations["bitcoin.network-operator.dev/config-hash"]
}

// TestOwnNamespaceInstallRunUpgradeThriceAndDelete is the path an
// OperatorHub user takes: subscribe, install 0.1.0, run a network, upgrade
// to 0.2.0 and, as newer catalogs are published, to 0.3.0 and to this
// release, with the network kept; then delete it and see the garbage
// collector clean up.
func TestOwnNamespaceInstallRunUpgradeThriceAndDelete(t *testing.T) {
	current := currentVersion(t)
	e := setup(t, "127.63.0.0/16", "0.2.0")
	e.subscribe([]string{operatorNS}, catalogSource("0.2.0"), csv010)
	e.approve(csv010)
	e.runOperator(e.waitCSVSucceeded(csv010))

	n := e.createNetwork(operatorNS, "regtest", 3)
	e.waitNetworkReady(n)
	e.scale(n, 4)
	cur := e.waitNetworkReady(n)

	// OwnNamespace: a network elsewhere is not the operator's business.
	other := e.createNetwork("elsewhere", "ignored", 2)
	time.Sleep(5 * time.Second) // a bounded wait for something that must not happen
	if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: "elsewhere", Name: "ignored"}, &appsv1.StatefulSet{}); !apierrors.IsNotFound(err) {
		t.Errorf("a network outside the OperatorGroup's namespaces was reconciled (StatefulSet: %v)", err)
	}
	if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(other), other); err != nil || len(other.Status.Conditions) != 0 {
		t.Errorf("a network outside the OperatorGroup's namespaces has status %+v (%v)", other.Status, err)
	}

	// 0.1.0 → 0.2.0 restarts no node.
	before, hashBefore := e.podIdentities(operatorNS), e.configHash(operatorNS, "regtest")
	e.upgrade(csv010, csv020)
	after := e.waitNetworkReady(cur)
	if got := e.podIdentities(operatorNS); len(before) != 4 || !mapsEqual(before, got) {
		t.Errorf("node pods changed across the upgrade to 0.2.0: before %v, after %v", before, got)
	}
	if h := e.configHash(operatorNS, "regtest"); h != hashBefore {
		t.Errorf("config hash changed across the upgrade to 0.2.0 (%s → %s): nodes would restart", hashBefore, h)
	}
	e.step("network still Ready after the upgrade to 0.2.0: same pods, same config hash")

	// Newer catalogs publish 0.3.0 and then this release; each upgrade
	// restarts a node only where its release notes (the CSV description)
	// say why. Each new operator has taken over once it wrote something
	// only it writes; its Ready then also means any roll-out it started is
	// done.
	after = e.upgradeRestarting(csv020, "0.3.0", after, func(n *v1alpha1.BitcoinNetwork) error {
		if len(n.Status.PeerAddresses) == 0 {
			return fmt.Errorf("no status.peerAddresses yet")
		}
		return nil
	})
	// Taken over once this release wrote a status (status.endpoints is new
	// in 0.4.0): until then Ready is 0.3.0's, and the roll this upgrade
	// makes would go unseen.
	after = e.upgradeRestarting(pkg+".v0.3.0", current, after, func(n *v1alpha1.BitcoinNetwork) error {
		if err := e.c.Get(e.ctx, types.NamespacedName{Namespace: n.Namespace, Name: n.Name + "-fingerprint-key"}, &corev1.Secret{}); err != nil {
			return err
		}
		if n.Status.Endpoints == nil {
			return fmt.Errorf("no status.endpoints yet: the status is the previous release's")
		}
		return nil
	})
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := e.c.Get(e.ctx, types.NamespacedName{Name: "bitcoinnetworks.bitcoin.network-operator.dev"}, crd); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(crd.Status.StoredVersions, []string{"v1alpha1"}) {
		t.Errorf("CRD storedVersions %v, want [v1alpha1]", crd.Status.StoredVersions)
	}
	// Ready says the pods run and the planned peers are connected; restarted
	// nodes may still be catching up on blocks, so the chain fields are
	// waited for, not read once.
	e.eventually(time.Minute, "the new status fields filled in and InSync", func() error {
		if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(after), after); err != nil {
			return err
		}
		if len(after.Status.PeerAddresses) != 4 || after.Status.Nodes[0].ExpectedPeers == 0 || after.Status.Nodes[0].Peers != after.Status.Nodes[0].ExpectedPeers {
			return fmt.Errorf("peerAddresses %v, node 0 %+v; want the new fields filled in", after.Status.PeerAddresses, after.Status.Nodes[0])
		}
		if c := meta.FindStatusCondition(after.Status.Conditions, v1alpha1.ConditionInSync); c == nil || c.Status != metav1.ConditionTrue ||
			after.Status.TipHash == "" || after.Status.Nodes[0].BestBlockHash != after.Status.TipHash || after.Status.Nodes[0].UserAgent == "" {
			return fmt.Errorf("InSync %+v, tip %q, node 0 %+v; want the chain fields of 0.3.0 filled in", c, after.Status.TipHash, after.Status.Nodes[0])
		}
		return nil
	})
	e.step("network Ready after the upgrade to %s; storedVersions %v; status.peerAddresses %v", current, crd.Status.StoredVersions, after.Status.PeerAddresses)

	// The release isolates the nodes: a NetworkPolicy the network owns.
	policy := &networkingv1.NetworkPolicy{}
	e.eventually(time.Minute, "the network's NetworkPolicy", func() error {
		return e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: "regtest-nodes"}, policy)
	})
	if !metav1.IsControlledBy(policy, after) || policy.Spec.Ingress[1].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != operatorNS {
		t.Errorf("NetworkPolicy %s: owners %v, RPC admitted from %+v; want it owned by the network and RPC from %s", policy.Name, policy.OwnerReferences, policy.Spec.Ingress[1].From, operatorNS)
	}
	e.step("NetworkPolicy %s applied, owned by the network, RPC admitted from the operator's namespace only", policy.Name)

	// Installed for its own namespace, the operator can read no Secret
	// elsewhere.
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "elsewhere", Name: "team-b-wallet"}, StringData: map[string]string{"key": "value"}}
	if err := e.c.Create(e.ctx, foreign); err != nil {
		t.Fatal(err)
	}
	asOperator := e.operatorClient()
	if err := asOperator.Get(e.ctx, client.ObjectKeyFromObject(foreign), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("the OwnNamespace operator reading a Secret in another namespace: %v, want Forbidden", err)
	}
	if err := asOperator.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: "regtest-rpc"}, &corev1.Secret{}); err != nil {
		t.Errorf("the operator reading its network's Secret: %v", err)
	}
	e.step("as its ServiceAccount, the operator is forbidden to read Secret elsewhere/%s and may read its own", foreign.Name)

	if err := e.c.Delete(e.ctx, after); err != nil {
		t.Fatal(err)
	}
	e.eventually(2*time.Minute, "garbage collector removes the network's objects", func() error {
		for _, obj := range []client.Object{
			&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "regtest"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "regtest"}},
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "regtest-config"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regtest-rpc"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regtest-tls"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regtest-btcd-config"}},
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "regtest-nodes"}},
		} {
			err := e.c.Get(e.ctx, types.NamespacedName{Namespace: operatorNS, Name: obj.GetName()}, obj)
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T %s still there (%v)", obj, obj.GetName(), err)
			}
		}
		return nil
	})
	e.step("deleted the network: the garbage collector removed its StatefulSet, Service, ConfigMap, Secrets and NetworkPolicy")
}

// operatorClient acts as the operator's ServiceAccount.
func (e *env) operatorClient() client.Client {
	cfg, err := clientcmd.BuildConfigFromFlags("", e.saKubeconfig)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestAllNamespacesInstallWatchesEveryNamespace installs this release as
// the README shows, with config/olm's CatalogSource and the AllNamespaces
// Subscription, and runs a network in a namespace of its own.
func TestAllNamespacesInstallWatchesEveryNamespace(t *testing.T) {
	current := currentVersion(t)
	e := setup(t, "127.64.0.0/16", current)
	e.installAsTheREADMEShows(current, "config/olm/subscription-all-namespaces.yaml")
	e.waitNetworkReady(e.createNetwork("team-a", "devnet", 3))
}

// TestOwnNamespaceInstallAsTheREADMEShows installs this release with
// config/olm's OwnNamespace Subscription and runs a network beside it.
func TestOwnNamespaceInstallAsTheREADMEShows(t *testing.T) {
	current := currentVersion(t)
	e := setup(t, "127.65.0.0/16", current)
	e.installAsTheREADMEShows(current, "config/olm/subscription-own-namespace.yaml")
	e.waitNetworkReady(e.createNetwork(operatorNS, "devnet", 3))
}

// installAsTheREADMEShows applies config/olm/catalogsource.yaml and a
// Subscription file as they are, but for the catalog's image: the local
// cluster pulls no image, so the CatalogSource gets the address of the opm
// serving the committed catalog instead. OLM installs the channel's head
// (Automatic approval); then the CSV's operator runs.
func (e *env) installAsTheREADMEShows(current, subscription string) {
	t := e.t
	objs := readYAML(t, "config/olm/catalogsource.yaml")
	if len(objs) != 1 {
		t.Fatalf("config/olm/catalogsource.yaml: %d objects, want one CatalogSource", len(objs))
	}
	cs := &operatorsv1alpha1.CatalogSource{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objs[0].Object, cs); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cs.Spec.Image, "-catalog:latest") || cs.Spec.SourceType != operatorsv1alpha1.SourceTypeGrpc {
		t.Fatalf("config/olm/catalogsource.yaml: image %q, source type %q; want the catalog image's latest tag over grpc", cs.Spec.Image, cs.Spec.SourceType)
	}
	cs.Spec.Image, cs.Spec.Address = "", e.catalogs[current]
	if err := e.c.Create(e.ctx, cs); err != nil {
		t.Fatal(err)
	}
	e.waitCatalogReady(cs)
	for _, u := range readYAML(t, subscription) {
		if err := e.c.Create(e.ctx, u); err != nil {
			t.Fatalf("%s: %s %s: %v", subscription, u.GetKind(), u.GetName(), err)
		}
	}
	e.step("applied config/olm/catalogsource.yaml (served locally by opm) and %s as they are", subscription)
	e.runOperator(e.waitCSVSucceeded(pkg + ".v" + current))
}

// readYAML decodes a file of the repository.
func readYAML(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), path))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := envtest.DecodeYAML(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

func mapsEqual(a, b map[string]types.UID) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
