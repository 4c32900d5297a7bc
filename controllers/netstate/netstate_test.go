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
	"errors"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	opmetrics "github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/metrics"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
)

// series counts the operator's series of one network.
func series(t *testing.T, ns, name string) int {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["network"] == name {
				n++
			}
		}
	}
	return n
}

// A network deleted and created again under its name starts from nothing,
// and what a pass of the deleted network still writes goes nowhere: not
// into the new network's state, not into the metrics.
func TestANameTakenAgainStartsFromNothing(t *testing.T) {
	var s Store
	key := types.NamespacedName{Namespace: "ns", Name: "net"}
	old := s.Track(key, "uid-1")
	old.Update(func(d *Data) {
		d.Mining.InitialBlocksHeight = 101
		d.Access = &Access{MiningAddress: "bcrt1old"}
		opmetrics.RecordPeerCheck(key.Namespace, key.Name, 3)
	})
	if s.Track(key, "uid-1") != old {
		t.Fatal("the same network got new state")
	}

	// Deleted and created again: the reconciler sees the new UID first.
	fresh := s.Track(key, "uid-2")
	if fresh == old || s.Get("uid-1") != nil || !old.Gone() {
		t.Fatal("the earlier network's state is still tracked")
	}
	fresh.Update(func(d *Data) {
		if d.Mining.InitialBlocksHeight != 0 || d.Access != nil {
			t.Errorf("the new network inherited %+v, %+v", d.Mining, d.Access)
		}
	})
	if got := series(t, key.Namespace, key.Name); got != 0 {
		t.Errorf("%d metric series of the earlier network remain", got)
	}
	// A pass of the earlier network, still running, writes back.
	if old.Update(func(d *Data) {
		d.Mining.InitialBlocksHeight = 101
		opmetrics.ObserveRPC(key.Namespace, key.Name, "getpeerinfo", time.Millisecond, &bitcoin.RPCError{Code: -28})
	}) {
		t.Error("a forgotten network's state took a write")
	}
	fresh.Update(func(d *Data) {
		if d.Mining.InitialBlocksHeight != 0 {
			t.Error("the earlier network's pass wrote into the new network's state")
		}
	})
	if got := series(t, key.Namespace, key.Name); got != 0 {
		t.Errorf("the earlier network's pass created %d metric series", got)
	}

	// Forget by name (the network is gone) ends the new one too.
	s.Forget(key)
	if s.Get("uid-2") != nil || !fresh.Gone() {
		t.Error("Forget left the network tracked")
	}
}

// A metric written while the network is forgotten concurrently is either
// written before (and deleted with the rest) or not at all.
func TestForgetRacesNoWriter(t *testing.T) {
	key := types.NamespacedName{Namespace: "race", Name: "net"}
	for i := range 50 {
		var s Store
		st := s.Track(key, types.UID("uid-"+string(rune('a'+i%26))))
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 100 {
				st.Update(func(*Data) {
					opmetrics.ObserveRPC(key.Namespace, key.Name, "getblockchaininfo", time.Millisecond, errors.New("x"))
				})
			}
		}()
		go func() { defer wg.Done(); s.Forget(key) }()
		wg.Wait()
		if got := series(t, key.Namespace, key.Name); got != 0 {
			t.Fatalf("round %d: %d series written after the network was forgotten", i, got)
		}
	}
}
