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
	"errors"
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

// ConnectOwnedOnRegtest is why spec.config.connect is refused on regtest
// (the CRD's CEL rule says the same).
const ConnectOwnedOnRegtest = "spec.config.connect is owned by the operator on regtest: it renders connect=0, so that nodes connect only to their planned peers; remove it"

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

// CheckConfig says why a network's spec.config cannot work with its size
// and topology, in a message that names the field and the fix; nil when it
// can. The API server already rejects what it can judge alone (see the CEL
// rules on spec.config); what depends on the node count is checked here.
//
// Every planned connection is an inbound one at the node it is added to,
// so on bitcoind maxconnections must leave that many inbound slots.
func CheckConfig(n *v1alpha1.BitcoinNetwork) error {
	for _, k := range slices.Sorted(maps.Keys(n.Spec.Config)) {
		if p := optionProblem(k, string(n.Spec.Config[k])); p != "" {
			return fmt.Errorf("spec.config.%s %s", k, p)
		}
	}
	if _, set := n.Spec.Config["connect"]; set && n.Spec.Chain == v1alpha1.ChainRegtest {
		return errors.New(ConnectOwnedOnRegtest)
	}
	value, ok := n.Spec.Config["maxconnections"]
	if !ok || n.Spec.Implementation != v1alpha1.ImplementationBitcoind {
		return nil
	}
	limit, err := strconv.Atoi(string(value))
	if err != nil {
		return fmt.Errorf("spec.config.maxconnections %q is not a number", value)
	}
	edges, err := topology.Plan(topology.Kind(n.Spec.Topology), int(n.Spec.Nodes))
	if err != nil {
		return err
	}
	inbound := map[int]int{}
	needed := 0
	for _, e := range edges {
		inbound[e.To]++
		needed = max(needed, inbound[e.To])
	}
	if slots := max(limit-coreAutomaticOutbound, 0); needed > slots {
		return fmt.Errorf("spec.config.maxconnections is %d, which leaves %d inbound connections per node (Bitcoin Core keeps %d for its own outbound peers), "+
			"but the %s topology of %d nodes plans up to %d inbound connections on one node: set maxconnections to at least %d, or remove it",
			limit, slots, coreAutomaticOutbound, n.Spec.Topology, n.Spec.Nodes, needed, needed+coreAutomaticOutbound)
	}
	return nil
}
