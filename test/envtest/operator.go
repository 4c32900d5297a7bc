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
	"context"
	"fmt"
	"os"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

	cancel context.CancelFunc
	done   chan error
}

// StartOperator starts an API server and runs r in a manager. Its Client,
// APIReader and Recorder are filled in; the other fields are the test's.
// Operator logs are quiet unless TEST_OPERATOR_LOGS is set.
func StartOperator(r *controllers.BitcoinNetworkReconciler) (_ *Operator, err error) {
	level := zapcore.ErrorLevel
	if os.Getenv("TEST_OPERATOR_LOGS") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
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
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  scheme.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controllers.CacheOptions(nil),
	})
	if err != nil {
		return nil, err
	}
	r.Client, r.APIReader, r.Recorder = mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder("bitcoin-network-operator")
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if o.Client, err = client.New(env.Config, client.Options{Scheme: scheme.Scheme}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel, o.done = cancel, make(chan error, 1)
	go func() { o.done <- mgr.Start(ctx) }()
	return o, nil
}

// Stop stops the manager, then the API server.
func (o *Operator) Stop() {
	o.cancel()
	if err := <-o.done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	if err := o.Env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
}
