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

package objects_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

// The tests in this package run the reconciler in a manager against a real
// kube-apiserver and etcd. envtest has no controllers of its own: no
// StatefulSet controller creates pods and no garbage collector deletes
// owned objects, so tests create pods themselves and assert owner
// references.

const (
	testBitcoindImage = "registry.example/bitcoind:test"
	testBtcdImage     = "registry.example/btcd:test"
)

var k8s client.Client

// testOperatorNamespace is where the test operator's pods would run.
const testOperatorNamespace = "bitcoin-network-operator-system"

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	op, err := envtest.StartOperator(&controllers.Operator{
		// No default btcd image: btcd networks must set spec.image here,
		// which lets a test see what happens when neither is set.
		DefaultImages:     map[v1alpha1.Implementation]string{v1alpha1.ImplementationBitcoind: testBitcoindImage},
		ClusterDomain:     "cluster.local",
		OperatorNamespace: testOperatorNamespace,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer op.Stop()
	k8s = op.Client
	return m.Run()
}

// newNamespace creates a namespace of the test's own, so tests can run in
// parallel without seeing each other's objects.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// eventually retries check until it returns nil or the timeout passes, then
// fails the test with the last error.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	if err := envtest.Poll(20*time.Second, 100*time.Millisecond, check); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
