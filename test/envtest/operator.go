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

package envtest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers"
)

// Operator is a real API server with the operator's reconciler running
// against it in a manager configured as cmd/main.go configures it.
type Operator struct {
	Env *Environment
	// Client reads from the API server directly, never from a cache.
	Client client.Client

	manager *Manager
}

// StartOperator starts an API server and runs r in a manager (see
// RunManager). Operator logs are quiet unless TEST_OPERATOR_LOGS is set.
func StartOperator(r *controllers.Operator) (_ *Operator, err error) {
	return StartOperatorWith(r, ManagerOptions{})
}

// StartOperatorWith is StartOperator with manager options.
func StartOperatorWith(r *controllers.Operator, opts ManagerOptions) (_ *Operator, err error) {
	SetTestLogger()
	env, err := Start()
	if err != nil {
		return nil, err
	}
	o := &Operator{Env: env}
	defer func() {
		if err != nil {
			_ = env.Stop()
		}
	}()
	if o.manager, err = RunManager(env.Config, r, opts); err != nil {
		return nil, err
	}
	if o.Client, err = client.New(env.Config, client.Options{Scheme: scheme.Scheme}); err != nil {
		return nil, err
	}
	return o, nil
}

// Stop stops the manager, then the API server.
func (o *Operator) Stop() {
	o.manager.Stop()
	if err := o.Env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
}

// SetTestLogger sends controller-runtime's logs to stderr (errors only,
// everything when TEST_OPERATOR_LOGS is set) and keeps every line, debug
// included, for Logs.
func SetTestLogger() {
	level := zapcore.ErrorLevel
	if os.Getenv("TEST_OPERATOR_LOGS") != "" {
		level = zapcore.DebugLevel
	}
	keep := zapcore.NewCore(zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg", NameKey: "logger"}), zapcore.AddSync(&logs), zapcore.DebugLevel)
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level),
		zap.RawZapOpts(uberzap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, keep) }))))
}

// logBuffer is every log line of this process's operators.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

var logs logBuffer

// Logs returns everything the operators of this test process logged, at
// every level, as JSON lines (see SetTestLogger).
func Logs() string {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	return logs.buf.String()
}

// ManagerOptions say how to run a manager beyond cmd/main.go's defaults.
type ManagerOptions struct {
	// LeaderElection, with a lease in LeaderElectionNamespace, and short
	// lease timings so that tests see a hand-over in seconds.
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaseDuration           time.Duration
	// WrapClient, if set, wraps the client the reconciler writes with
	// (e.g. a controller-runtime interceptor client that injects faults
	// or records calls).
	WrapClient func(client.Client) client.Client
	// MetricsBindAddress serves the metrics endpoint (plain HTTP) there;
	// empty serves none.
	MetricsBindAddress string
}

// Manager is a running manager.
type Manager struct {
	cancel context.CancelFunc
	done   chan error
	stop   sync.Once
}

// RunManager runs r in a new manager against the API server at cfg, the
// way cmd/main.go sets it up. r's Client, APIReader and Recorder are filled
// in; the other fields are the caller's.
func RunManager(cfg *rest.Config, r *controllers.Operator, opts ManagerOptions) (*Manager, error) {
	mopts := ctrl.Options{
		Scheme:  scheme.Scheme,
		Metrics: metricsserver.Options{BindAddress: cmp.Or(opts.MetricsBindAddress, "0")},
		Cache:   controllers.CacheOptions(nil),
		// Controller names must be unique in a process; a test may run
		// several managers, one after the other or side by side.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if opts.LeaderElection {
		lease := opts.LeaseDuration
		if lease == 0 {
			lease = 4 * time.Second
		}
		renew, retry := lease*3/4, lease/8
		mopts.LeaderElection = true
		mopts.LeaderElectionID = "bitcoin-network-operator.network-operator.dev"
		mopts.LeaderElectionNamespace = opts.LeaderElectionNamespace
		mopts.LeaseDuration, mopts.RenewDeadline, mopts.RetryPeriod = &lease, &renew, &retry
	}
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		return nil, err
	}
	r.Client, r.APIReader, r.Recorder = mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder("bitcoin-network-operator")
	if opts.WrapClient != nil {
		r.Client = opts.WrapClient(r.Client)
	}
	// A copy: a caller may run the same configuration in several managers.
	r = &controllers.Operator{Client: r.Client, APIReader: r.APIReader, Recorder: r.Recorder, DefaultImages: r.DefaultImages,
		ClusterDomain: r.ClusterDomain, Nodes: r.Nodes, OperatorNamespace: r.OperatorNamespace, SetVolumeGroup: r.SetVolumeGroup}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	return m, nil
}

// Stop stops the manager, as a killed process would stop: it releases
// nothing it holds (a leader's lease runs out on its own).
func (m *Manager) Stop() {
	m.stop.Do(func() {
		m.cancel()
		if err := <-m.done; err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	})
}
