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

package nodes

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/bitcoin"
)

// chain is a best chain by height: block hashes, as getblockhash answers.
type chain struct {
	bitcoin.Node // only BlockHash is called
	hashes       []string
	calls        int
}

func (c *chain) BlockHash(_ context.Context, h int64) (string, error) {
	c.calls++
	if h < 0 || h >= int64(len(c.hashes)) {
		return "", errors.New("Block height out of range")
	}
	return c.hashes[h], nil
}

// branch is a chain of length n that shares its first fork+1 blocks with
// every other branch and then goes its own way (named by tag).
func branch(tag string, fork, n int) *chain {
	c := &chain{}
	for h := range n {
		if h <= fork {
			c.hashes = append(c.hashes, fmt.Sprintf("common-%d", h))
		} else {
			c.hashes = append(c.hashes, fmt.Sprintf("%s-%d", tag, h))
		}
	}
	return c
}

func TestForkHeightFindsWhereTwoChainsPart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		src, dst  *chain
		top       int64
		want      int64
		wantFound bool
	}{
		{"a reorg of 3 from 101", branch("long", 101, 106), branch("short", 101, 105), 104, 101, true},
		{"the node is behind on the tip's chain", branch("long", 110, 111), branch("short", 110, 108), 107, 107, true},
		{"a fork at genesis", branch("a", 0, 30), branch("b", 0, 20), 19, 0, true},
		{"a fork deeper than the bound", branch("a", 10, 400), branch("b", 10, 300), 299, 0, false},
		{"a node that does not answer", branch("a", 5, 10), &chain{}, 8, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found := forkHeight(ctx, tc.src, tc.dst, tc.top)
			if got != tc.want || found != tc.wantFound {
				t.Errorf("forkHeight = %d, %v; want %d, %v", got, found, tc.want, tc.wantFound)
			}
			// A binary search: a handful of calls, not one per block.
			if tc.wantFound && tc.src.calls > 10 {
				t.Errorf("%d getblockhash calls on the source node", tc.src.calls)
			}
		})
	}
}
