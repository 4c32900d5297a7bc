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

package faults

import (
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers/netstate"
)

// controllerOptions: one fault at a time is plenty (faults are few), and
// retries back off as the network controllers' do.
func controllerOptions() controller.Options {
	return controller.Options{RateLimiter: netstate.RetryLimiter(), MaxConcurrentReconciles: 1}
}

func equalStatus(a, b *v1alpha1.BitcoinNetworkFaultStatus) bool { return reflect.DeepEqual(a, b) }

// describeSides writes sides briefly: "{a-0, a-1} | {a-2}".
func describeSides(sides [][]string) string {
	parts := make([]string, len(sides))
	for i, s := range sides {
		if len(s) > 6 {
			parts[i] = fmt.Sprintf("{%s … %s, %d nodes}", s[0], s[len(s)-1], len(s))
		} else {
			parts[i] = "{" + strings.Join(s, ", ") + "}"
		}
	}
	return strings.Join(parts, " | ")
}

// describeReorgs groups nodes by the depth and the tip they replaced:
// "split-0, split-1, split-2 reorganised 2 blocks deep (replacing 39c6da8a…)".
func describeReorgs(reorgs []v1alpha1.NodeReorgStatus) string {
	type key struct {
		depth int64
		tip   string
	}
	var order []key
	nodes := map[key][]string{}
	for _, r := range reorgs {
		k := key{r.Depth, r.ReplacedTip}
		if nodes[k] == nil {
			order = append(order, k)
		}
		nodes[k] = append(nodes[k], r.Node)
	}
	parts := make([]string, len(order))
	for i, k := range order {
		tip := k.tip
		if len(tip) > 16 {
			tip = tip[:16] + "…"
		}
		parts[i] = fmt.Sprintf("%s reorganised %d blocks deep (replacing %s)", strings.Join(nodes[k], ", "), k.depth, tip)
	}
	return strings.Join(parts, "; ")
}
