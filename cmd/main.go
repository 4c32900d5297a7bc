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

// Command manager runs the bitcoin-network-operator.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/nodes"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
)

// RBAC for the secure metrics endpoint: it authenticates and authorizes
// scrapers through the API server.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

func main() {
	var (
		metricsAddr, probeAddr, pprofAddr, leaderElectionNamespace, clusterDomain string
		leaderElect, secureMetrics, enableHTTP2                                   bool
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address the metrics endpoint binds to, e.g. :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address Go's pprof endpoints bind to (plain HTTP, no authentication: loopback only), e.g. 127.0.0.1:6060; 0 disables them.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Enable leader election, so that only one replica of the operator is active.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election lease; needed when running outside a cluster.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Enable HTTP/2 for the metrics server (off by default: CVE-2023-44487, CVE-2023-39325).")
	flag.StringVar(&clusterDomain, "cluster-domain", "cluster.local", "DNS domain of the cluster, used in the nodes' DNS names.")
	var peers nodes.Options
	flag.DurationVar(&peers.RPCTimeout, "rpc-timeout", bitcoin.DefaultTimeout, "Deadline of each RPC call to a node.")
	flag.DurationVar(&peers.CheckInterval, "peer-check-interval", nodes.DefaultCheckInterval, "How often to verify and repair the nodes' peers when nothing changes (a network's spec.peerCheckInterval overrides it).")
	flag.IntVar(&peers.Concurrency, "rpc-concurrency", 32, "How many nodes of one network the operator calls at once.")
	flag.IntVar(&peers.NetworkConcurrency, "peer-check-concurrency", nodes.DefaultNetworkConcurrency, "How many networks' peers the operator checks at once; node RPC never holds up applying objects and writing status.")
	var volumeGroup string
	flag.StringVar(&volumeGroup, "volume-fsgroup", "auto", "Give node pods with persistent storage an fsGroup, so the non-root node can write a new volume: true, false, or auto (true unless the cluster is OpenShift, whose restricted SCC assigns one).")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	if limit, ok := softMemoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
		log.Info("Go memory limit", "bytes", limit)
	}

	if err := run(config{
		metricsAddr: metricsAddr, probeAddr: probeAddr, pprofAddr: pprofAddr, leaderElect: leaderElect,
		leaderElectionNamespace: leaderElectionNamespace, secureMetrics: secureMetrics,
		enableHTTP2: enableHTTP2, clusterDomain: clusterDomain, peers: peers, volumeGroup: volumeGroup,
	}); err != nil {
		log.Error(err, "operator stopped")
		os.Exit(1)
	}
}

type config struct {
	metricsAddr, probeAddr, pprofAddr, leaderElectionNamespace, clusterDomain string
	leaderElect, secureMetrics, enableHTTP2                                   bool
	peers                                                                     nodes.Options
	volumeGroup                                                               string
}

func run(cfg config) error {
	log := ctrl.Log.WithName("setup")
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	var tlsOpts []func(*tls.Config)
	if !cfg.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: cfg.metricsAddr, SecureServing: cfg.secureMetrics, TLSOpts: tlsOpts}
	if cfg.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	restConfig := ctrl.GetConfigOrDie()
	setVolumeGroup, err := resolveVolumeGroup(cfg.volumeGroup, func() ([]string, error) { return apiGroups(restConfig) })
	if err != nil {
		return err
	}
	log.Info("node volumes", "fsGroup", setVolumeGroup)

	// POD_NAMESPACE comes from the downward API (config/manager).
	operatorNamespace := os.Getenv("POD_NAMESPACE")
	if operatorNamespace == "" {
		log.Info("POD_NAMESPACE is not set (not running in a pod): networks get no NetworkPolicy, which would shut this operator out of the nodes' RPC")
	}

	namespaces := watchNamespaces(os.Getenv("WATCH_NAMESPACE"))
	log.Info("starting", "watchNamespaces", namespaceList(namespaces))
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  cfg.probeAddr,
		PprofBindAddress:        cfg.pprofAddr,
		LeaderElection:          cfg.leaderElect,
		LeaderElectionID:        "bitcoin-network-operator.network-operator.dev",
		LeaderElectionNamespace: cfg.leaderElectionNamespace,
		// The operator does nothing after losing its lease: exit fast so a
		// new leader takes over sooner.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(namespaces),
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	if err := (&controllers.Operator{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("bitcoin-network-operator"),
		DefaultImages: map[v1alpha1.Implementation]string{
			v1alpha1.ImplementationBitcoind: os.Getenv("RELATED_IMAGE_BITCOIND"),
			v1alpha1.ImplementationBtcd:     os.Getenv("RELATED_IMAGE_BTCD"),
			v1alpha1.ImplementationKnots:    os.Getenv("RELATED_IMAGE_KNOTS"),
		},
		ClusterDomain:     cfg.clusterDomain,
		Nodes:             cfg.peers,
		SetVolumeGroup:    setVolumeGroup,
		OperatorNamespace: operatorNamespace,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the BitcoinNetwork controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// softMemoryLimit is the Go runtime's soft memory limit: 90 % of the
// container's (MEMORY_LIMIT, in bytes, from the downward API), so that the
// garbage collector works harder as the operator nears its limit instead
// of the kernel killing it there (a 1000-node network's passes allocate in
// bursts). None when GOMEMLIMIT is set (the runtime reads it itself) or
// there is no limit to go by.
func softMemoryLimit(env func(string) string) (int64, bool) {
	if env("GOMEMLIMIT") != "" {
		return 0, false
	}
	limit, err := strconv.ParseInt(env("MEMORY_LIMIT"), 10, 64)
	if err != nil || limit <= 0 {
		return 0, false
	}
	return limit * 9 / 10, true
}

// watchNamespaces parses WATCH_NAMESPACE as OLM sets it from the
// OperatorGroup's target namespaces: empty means all namespaces, otherwise a
// comma-separated list.
func watchNamespaces(env string) map[string]cache.Config {
	var namespaces map[string]cache.Config
	for ns := range strings.SplitSeq(env, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			if namespaces == nil {
				namespaces = map[string]cache.Config{}
			}
			namespaces[ns] = cache.Config{}
		}
	}
	return namespaces
}

func namespaceList(namespaces map[string]cache.Config) string {
	if len(namespaces) == 0 {
		return "all"
	}
	var names []string
	for ns := range namespaces {
		names = append(names, ns)
	}
	return strings.Join(names, ",")
}

// openShiftSecurityGroup is served only by OpenShift, whose restricted SCC
// assigns each pod an fsGroup from its namespace's range and rejects pods
// that ask for another.
const openShiftSecurityGroup = "security.openshift.io"

// resolveVolumeGroup turns --volume-fsgroup into whether node pods with
// persistent storage get an fsGroup; "auto" asks the API server's groups.
func resolveVolumeGroup(mode string, groups func() ([]string, error)) (bool, error) {
	switch mode {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto":
		names, err := groups()
		if err != nil {
			return false, fmt.Errorf("--volume-fsgroup=auto: discovering API groups: %w", err)
		}
		return !slices.Contains(names, openShiftSecurityGroup), nil
	}
	return false, fmt.Errorf("--volume-fsgroup=%q: want true, false or auto", mode)
}

// apiGroups lists the API groups the server serves.
func apiGroups(cfg *rest.Config) ([]string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	list, err := dc.ServerGroups()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, g := range list.Groups {
		names = append(names, g.Name)
	}
	return names, nil
}
