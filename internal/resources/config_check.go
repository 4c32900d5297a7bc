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

package resources

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/topology"
)

// CredentialOptions and OwnedOptions are the node options the operator sets
// itself, for both implementations: credentials, and RPC endpoints and
// access lists, P2P listening, the proxy peer connections would take, data
// directories and config files, chain selection, TLS and the process model.
// A `no<option>` key negates an option in Bitcoin Core, so those are owned
// too. The CEL rules on spec.config list the same (a test compares them);
// CheckConfig and the renderer hold to them for networks the API server
// accepted before a rule existed.
var (
	CredentialOptions = []string{"rpcuser", "rpcpassword", "rpcpass", "rpcauth", "rpclimituser", "rpclimitpass"}
	OwnedOptions      = []string{"rpcport", "rpcbind", "rpcallowip", "rpcconnect", "rpcwhitelist", "rpcwhitelistdefault", "rpclisten", "rpccert", "rpckey", "rpccookiefile",
		"port", "bind", "whitebind", "listen", "proxy", "networkactive", "server", "norpc", "notls", "daemon", "daemonwait",
		"datadir", "blocksdir", "appdata", "logdir", "debuglogfile", "conf", "configfile", "includeconf", "chain", "regtest", "signet", "testnet", "testnet4", "simnet"}
)

// connectOwned is why config.connect is refused on regtest (the CRD's CEL
// rules say the same).
const connectOwned = "is owned by the operator on regtest: it renders connect=0, so that nodes connect only to their planned peers; remove it"

var optionKey = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// optionProblem says why a spec.config entry cannot be rendered; "" when
// it can.
func optionProblem(key, value string) string {
	owned := func(k string) bool { return slices.Contains(CredentialOptions, k) || slices.Contains(OwnedOptions, k) }
	switch {
	case len(key) > 64 || !optionKey.MatchString(key):
		return "is not an option name (lowercase letters and digits, starting with a letter, at most 64 characters)"
	case owned(key):
		return "is owned by the operator: remove it"
	case strings.HasPrefix(key, "no") && owned(key[2:]):
		return fmt.Sprintf("negates %s, which is owned by the operator: remove it", key[2:])
	case strings.ContainsAny(value, "\n\r"):
		return "must be a single line"
	case strings.Contains(value, "#"):
		return "cannot contain #, which starts a comment in the node configuration file"
	}
	return ""
}

// coreAutomaticOutbound is how many of -maxconnections Bitcoin Core keeps
// for connections it opens itself (8 full-relay, 2 block-relay-only, 1
// feeler); only the rest accept inbound peers.
const coreAutomaticOutbound = 11

// CheckConfig says why a network's configuration cannot work with its size
// and topology, in a message that names the field and the fix; nil when it
// can. The API server already rejects what it can judge alone (see the CEL
// rules on NodeConfig); what depends on the node count is checked here.
//
// Every planned connection is an inbound one at the node it is added to,
// so on bitcoind maxconnections must leave that many inbound slots.
func CheckConfig(n *v1alpha1.BitcoinNetwork) error {
	groups := Groups(n)
	for i, g := range groups {
		field := configField(n, i)
		for _, k := range slices.Sorted(maps.Keys(g.Config)) {
			if p := optionProblem(k, string(g.Config[k])); p != "" {
				return fmt.Errorf("%s.%s %s", field, k, p)
			}
		}
		if _, set := g.Config["connect"]; set && n.Spec.Chain == v1alpha1.ChainRegtest {
			return fmt.Errorf("%s.connect %s", field, connectOwned)
		}
	}
	sizes := make([]int, len(groups))
	for i, g := range groups {
		sizes[i] = int(g.Nodes)
	}
	edges, err := topology.PlanGroups(topology.Kind(n.Spec.Topology), sizes)
	if err != nil {
		return err
	}
	inbound := map[int]int{}
	for _, e := range edges {
		inbound[e.To]++
	}
	first := 0
	for i, g := range groups {
		if err := checkMaxConnections(n, i, g, inbound, first); err != nil {
			return err
		}
		first += int(g.Nodes)
	}
	return nil
}

// checkMaxConnections checks a bitcoind group's maxconnections against the
// inbound connections the plan gives its nodes (global indexes from first).
func checkMaxConnections(n *v1alpha1.BitcoinNetwork, i int, g Group, inbound map[int]int, first int) error {
	value, ok := g.Config["maxconnections"]
	if !ok || !g.Implementation.BitcoinCore() {
		return nil
	}
	field := configField(n, i)
	limit, err := strconv.Atoi(string(value))
	if err != nil {
		return fmt.Errorf("%s.maxconnections %q is not a number", field, value)
	}
	needed := 0
	for k := range int(g.Nodes) {
		needed = max(needed, inbound[first+k])
	}
	if slots := max(limit-coreAutomaticOutbound, 0); needed > slots {
		return fmt.Errorf("%s.maxconnections is %d, which leaves %d inbound connections per node (Bitcoin Core keeps %d for its own outbound peers), "+
			"but the %s topology of %d nodes plans up to %d inbound connections on one of them: set maxconnections to at least %d, or remove it",
			field, limit, slots, coreAutomaticOutbound, n.Spec.Topology, TotalNodes(n), needed, needed+coreAutomaticOutbound)
	}
	return nil
}

// configField names a group's config field in messages.
func configField(n *v1alpha1.BitcoinNetwork, i int) string {
	if len(n.Spec.Groups) == 0 {
		return "spec.config"
	}
	return fmt.Sprintf("spec.groups[%d].config", i)
}
