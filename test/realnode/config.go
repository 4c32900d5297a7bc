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

package realnode

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
)

// LoopbackOnly are the bitcoind options that keep a node on a public test
// chain (signet, testnet3, testnet4) from looking for peers: no DNS seeds,
// no built-in seed addresses, no automatic outbound connections (addnode
// still works), no Tor control port.
var LoopbackOnly = []string{"dnsseed=0", "fixedseeds=0", "connect=0", "listenonion=0"}

var sectionHeader = regexp.MustCompile(`^\[([a-z0-9]+)\]$`)

func isWildcard(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// MapBitcoindConfig maps a bitcoin.conf rendered for a pod onto one loopback
// IP, as the pod's own network namespace would give it one address: the
// wildcard RPC binds become that IP, the P2P listener is bound to it (a
// pod's unbound listener takes every address it has), and bitcoin-cli's
// default 127.0.0.1 (the pod itself, in a pod) becomes it too. Every chain
// but regtest also gets LoopbackOnly, so a test node never dials out.
// Options are inserted right after the chain's section header: bitcoind
// takes the first value of an option in its config file, so they win.
func MapBitcoindConfig(conf, ip string) (string, error) {
	lines := strings.Split(conf, "\n")
	header, section := -1, ""
	for i, l := range lines {
		if m := sectionHeader.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			header, section = i, m[1]
			break
		}
	}
	if header < 0 {
		return "", fmt.Errorf("bitcoin.conf has no chain section")
	}
	var out []string
	port, hasBind := "", false
	for i, l := range lines {
		key, value, ok := strings.Cut(strings.TrimSpace(l), "=")
		if ok && i > header {
			switch key {
			case "port":
				port = value
			case "rpcbind":
				if isWildcard(value) {
					l = "rpcbind=" + ip
				}
			case "bind":
				hasBind = true
				if host, p, err := net.SplitHostPort(value); err == nil && isWildcard(host) {
					l = "bind=" + net.JoinHostPort(ip, p)
				}
			}
		}
		if strings.HasPrefix(l, "rpcbind=") && slices.Contains(out, l) {
			continue // two wildcards (:: and 0.0.0.0) map to one address
		}
		out = append(out, l)
	}
	added := []string{"rpcconnect=" + ip}
	if !hasBind {
		if port == "" {
			return "", fmt.Errorf("bitcoin.conf sets no port in [%s]", section)
		}
		added = append(added, "bind="+net.JoinHostPort(ip, port))
	}
	if section != "regtest" {
		added = append(added, LoopbackOnly...)
	} else {
		added = append(added, "listenonion=0")
	}
	return strings.Join(slices.Insert(out, header+1, added...), "\n"), nil
}

var btcdWildcardListen = regexp.MustCompile(`(?m)^(listen|rpclisten)=:`)

// MapBtcdConfig maps a btcd.conf rendered for a pod onto one loopback IP:
// its wildcard listeners bind that IP. Every chain but regtest also gets
// nodnsseed, so a test node never looks for public peers.
func MapBtcdConfig(conf, ip string) string {
	conf = btcdWildcardListen.ReplaceAllString(conf, "${1}="+ip+":")
	if !regexp.MustCompile(`(?m)^regtest=1$`).MatchString(conf) {
		conf = strings.Replace(conf, "[Application Options]\n", "[Application Options]\nnodnsseed=1\n", 1)
	}
	return conf
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// ExpandArgs expands $(VAR) references in container arguments from env, as
// the kubelet does, then maps mounted paths with mapPath.
func ExpandArgs(args []string, env map[string]string, mapPath func(string) string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		a = varRef.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
		out = append(out, mapPath(a))
	}
	return out
}

// PathMapper maps container paths (mount path → host directory) in one
// pass, longest mount path first, so a mapped path is never mapped again.
func PathMapper(mounts map[string]string) func(string) string {
	from := slices.Collect(maps.Keys(mounts))
	slices.SortFunc(from, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, f := range from {
		pairs = append(pairs, f, mounts[f])
	}
	return strings.NewReplacer(pairs...).Replace
}
