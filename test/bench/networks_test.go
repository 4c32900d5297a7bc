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

package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/fixture"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/podsim"
)

const benchNetworks = 100

// operatorMemoryLimit is the manager container's memory limit in
// config/manager/manager.yaml, in bytes, as the downward API gives it.
func operatorMemoryLimit(b *testing.B) int64 {
	raw, err := os.ReadFile(filepath.Join(envtest.RepoRoot(), "config", "manager", "manager.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		d := &appsv1.Deployment{}
		if err := yaml.Unmarshal([]byte(doc), d); err != nil || d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if limit, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && c.Name == "manager" {
				return limit.Value()
			}
		}
	}
	b.Fatal("config/manager/manager.yaml: no memory limit on the manager container")
	return 0
}

// operatorProcess is the operator binary running against the bench's API
// server, as it runs in a cluster (its own process: its RSS is its own).
type operatorProcess struct {
	cmd            *exec.Cmd
	metrics, pprof string
}

func startOperator(b *testing.B, bin, kubeconfig string) *operatorProcess {
	b.Helper()
	addr, pprof := freeAddress(b), freeAddress(b)
	level := "error"
	var logFile *os.File
	if dir := os.Getenv("BNO_BENCH_PROFILES"); dir != "" {
		// With profiles, the operator's info log goes beside them.
		f, err := os.Create(filepath.Join(dir, "operator.log"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		level, logFile = "info", f
	}
	cmd := exec.Command(bin, "--metrics-bind-address="+addr, "--metrics-secure=false", "--health-probe-bind-address=0", "--zap-log-level="+level,
		"--pprof-bind-address="+pprof)
	// MEMORY_LIMIT is what the Deployment's downward API gives it.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "RELATED_IMAGE_BITCOIND=bitcoind:bench", "RELATED_IMAGE_BTCD=btcd:bench",
		"MEMORY_LIMIT="+strconv.FormatInt(operatorMemoryLimit(b), 10))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if logFile != nil {
		cmd.Stdout, cmd.Stderr = logFile, logFile
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return &operatorProcess{cmd: cmd, metrics: addr, pprof: pprof}
}

func freeAddress(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// saveProfile writes one of the operator's pprof profiles (heap, or
// "profile?seconds=N" for CPU, which takes that long) to
// $BNO_BENCH_PROFILES/<name> when that is set (go tool pprof reads it).
func (o *operatorProcess) saveProfile(b *testing.B, profile, name string) {
	dir := os.Getenv("BNO_BENCH_PROFILES")
	if dir == "" {
		return
	}
	resp, err := http.Get("http://" + o.pprof + "/debug/pprof/" + profile)
	if err != nil {
		b.Logf("%s profile: %v", profile, err)
		return
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), raw, 0o644)
	}
	if err != nil {
		b.Logf("%s profile: %v", profile, err)
	}
}

func (o *operatorProcess) stop() {
	_ = o.cmd.Process.Kill()
	_ = o.cmd.Wait()
}

func (o *operatorProcess) scrape() (map[string]*dto.MetricFamily, error) {
	return fixture.Scrape(o.metrics)
}

// sum adds the samples of a family whose labels match (counters, gauges).
func sum(f map[string]*dto.MetricFamily, name string, match func(map[string]string) bool) float64 {
	total := 0.0
	for _, m := range f[name].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if match != nil && !match(l) {
			continue
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return total
}

// quantile estimates a quantile of the object controller's reconcile
// times from the histogram buckets, as histogram_quantile does.
func quantile(f map[string]*dto.MetricFamily, q float64) time.Duration {
	return controllerQuantile(f, "bitcoinnetwork", q)
}

// controllerQuantile is quantile for the named controller.
func controllerQuantile(f map[string]*dto.MetricFamily, controller string, q float64) time.Duration {
	for _, m := range f["controller_runtime_reconcile_time_seconds"].GetMetric() {
		ok := false
		for _, l := range m.GetLabel() {
			ok = ok || (l.GetName() == "controller" && l.GetValue() == controller)
		}
		if !ok {
			continue
		}
		h := m.GetHistogram()
		rank := q * float64(h.GetSampleCount())
		prevBound, prevCount := 0.0, 0.0
		buckets := h.GetBucket()
		sort.Slice(buckets, func(i, j int) bool { return buckets[i].GetUpperBound() < buckets[j].GetUpperBound() })
		for _, bk := range buckets {
			c := float64(bk.GetCumulativeCount())
			if c >= rank {
				if math.IsInf(bk.GetUpperBound(), 1) {
					return time.Duration(prevBound * float64(time.Second))
				}
				frac := 0.0
				if c > prevCount {
					frac = (rank - prevCount) / (c - prevCount)
				}
				return time.Duration((prevBound + frac*(bk.GetUpperBound()-prevBound)) * float64(time.Second))
			}
			prevBound, prevCount = bk.GetUpperBound(), c
		}
	}
	return 0
}

// BenchmarkScaleManyNetworks runs the operator binary with 100 networks of
// 3 (fake) bitcoind nodes on a local API server: time to all Ready,
// reconcile latency, the operator's memory, its API requests in steady
// state, and its recovery after a restart.
func BenchmarkScaleManyNetworks(b *testing.B) {
	for i := 0; i < b.N; i++ {
		manyNetworks(b)
	}
}

// benchCluster is a local API server with the pod simulator (fake
// bitcoind nodes) and the operator binary built, for the scale benchmarks.
type benchCluster struct {
	k8s client.Client
	// watch is an informer cache of pods and networks: the benchmarks
	// watch 1000 pods and a 1000-node status without reading them from
	// the API server in a loop, which would load the machine they measure.
	watch          cache.Cache
	bin            string
	kubeconfigPath string
	ctx            context.Context
}

// startBenchCluster starts one; it stops when the benchmark ends.
func startBenchCluster(b *testing.B, subnet int) *benchCluster {
	env, err := envtest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(ctrlenvtest.User{Name: "bench-operator", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	c := &benchCluster{kubeconfigPath: filepath.Join(dir, "kubeconfig"), bin: filepath.Join(dir, "manager")}
	if err := os.WriteFile(c.kubeconfigPath, kubeconfig, 0o600); err != nil {
		b.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", c.bin, "./cmd")
	build.Dir = envtest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the operator: %v\n%s", err, out)
	}
	if c.k8s, err = client.New(env.Config, client.Options{}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.ctx = ctx
	if c.watch, err = cache.New(env.Config, cache.Options{}); err != nil {
		b.Fatal(err)
	}
	for _, o := range []client.Object{&corev1.Pod{}, &v1alpha1.BitcoinNetwork{}} {
		if _, err := c.watch.GetInformer(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	go func() { _ = c.watch.Start(ctx) }()
	sim := &podsim.Simulator{Client: c.k8s, WorkDir: dir, Subnet: subnet, EmulateStatefulSets: true}
	simDone := make(chan struct{})
	go func() { _ = sim.Run(ctx); close(simDone) }()
	b.Cleanup(func() { cancel(); <-simDone })
	return c
}

func manyNetworks(b *testing.B) {
	c := startBenchCluster(b, 120)
	k8s, bin, kubeconfigPath, ctx := c.k8s, c.bin, c.kubeconfigPath, c.ctx
	op := startOperator(b, bin, kubeconfigPath)
	defer func() { op.stop() }()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}
	if err := k8s.Create(ctx, ns); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < benchNetworks; i++ {
		n := &v1alpha1.BitcoinNetwork{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("net-%03d", i), Namespace: "bench"}}
		n.Spec.Nodes, n.Spec.Implementation, n.Spec.Topology = ptr.To[int32](3), v1alpha1.ImplementationBitcoind, v1alpha1.TopologyMesh
		if err := k8s.Create(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
	allReady := func() (int, error) {
		list := &v1alpha1.BitcoinNetworkList{}
		if err := k8s.List(ctx, list, client.InNamespace("bench")); err != nil {
			return 0, err
		}
		ready := 0
		for _, n := range list.Items {
			if meta.IsStatusConditionTrue(n.Status.Conditions, v1alpha1.ConditionReady) {
				ready++
			}
		}
		return ready, nil
	}
	waitReady := func(what string) time.Duration {
		t0 := time.Now()
		for {
			if ready, err := allReady(); err == nil && ready == benchNetworks {
				return time.Since(t0)
			}
			if time.Since(t0) > 10*time.Minute {
				b.Fatalf("%s: not all %d networks Ready after 10 minutes", what, benchNetworks)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitReady("creation")
	toReady := time.Since(start)

	// Steady state: a minute of the operator's API requests and checks.
	time.Sleep(30 * time.Second)
	before, err := op.scrape()
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Minute)
	after, err := op.scrape()
	if err != nil {
		b.Fatal(err)
	}
	requests := func(f map[string]*dto.MetricFamily, writes bool) float64 {
		return sum(f, "rest_client_requests_total", func(l map[string]string) bool {
			return !writes || !slices.Contains([]string{"GET", "LIST", "WATCH"}, l["method"])
		})
	}
	perNetwork := (requests(after, false) - requests(before, false)) / benchNetworks
	writes := requests(after, true) - requests(before, true)
	checks := (sum(after, "bitcoin_network_peer_checks_total", nil) - sum(before, "bitcoin_network_peer_checks_total", nil)) / benchNetworks
	p50, p99 := quantile(after, 0.5), quantile(after, 0.99)
	rss := rssMiB(op.cmd.Process.Pid)
	heap := sum(after, "go_memstats_heap_alloc_bytes", nil) / (1 << 20)

	// Operator restart: time until every network was checked again and
	// all are still Ready.
	op.stop()
	op = startOperator(b, bin, kubeconfigPath)
	t0 := time.Now()
	for {
		f, err := op.scrape()
		if err == nil && len(f["bitcoin_network_peer_checks_total"].GetMetric()) == benchNetworks {
			break
		}
		if time.Since(t0) > 5*time.Minute {
			b.Fatal("the restarted operator did not check every network within 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	recovered := time.Since(t0)
	waitReady("after the operator restart")

	note := func(format string, a ...any) string { return fmt.Sprintf(format, a...) }
	addRow(row{Scenario: "100 networks × 3", Impl: "bitcoind (fake)", Nodes: 3 * benchNetworks, ToConnectedMs: float64(toReady.Milliseconds()),
		Note: note("creation to all Ready; reconcile p50 %v, p99 %v; manager RSS %.0f MiB, heap %.0f MiB", p50.Round(time.Millisecond/10), p99.Round(time.Millisecond/10), rss, heap)})
	addRow(row{Scenario: "100 networks, steady", Impl: "bitcoind (fake)", Nodes: 3 * benchNetworks,
		Note: note("per network per minute: %.1f API requests (%.0f writes in all), %.1f peer checks", perNetwork, writes, checks)})
	addRow(row{Scenario: "operator restart", Impl: "bitcoind (fake)", Nodes: 3 * benchNetworks, ToConnectedMs: float64(recovered.Milliseconds()),
		Note: "from the new process's start to every network checked again"})
	b.ReportMetric(float64(toReady.Milliseconds()), "ms-to-all-ready")
	b.ReportMetric(rss, "MiB-rss")
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms-reconcile-p99")
}
