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
	"cmp"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/rpcauth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNetwork is a network as the API server returns it: defaults applied.
func testNetwork(impl v1alpha1.Implementation, chain v1alpha1.Chain) *v1alpha1.BitcoinNetwork {
	return &v1alpha1.BitcoinNetwork{
		ObjectMeta: metav1.ObjectMeta{Name: "net", Namespace: "btc", UID: "8c0d5f8e-4c5e-4b44-9a1b-0c8e2d1f7a10", Generation: 1},
		Spec: v1alpha1.BitcoinNetworkSpec{
			Nodes: ptr.To[int32](3), Chain: chain, Implementation: impl, Topology: v1alpha1.TopologyMesh,
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
			}},
		},
	}
}

// mixedNetwork is a network of four groups: two Bitcoin Core releases,
// Knots and btcd, each with two nodes.
func mixedNetwork() *v1alpha1.BitcoinNetwork {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	n.Spec.Nodes, n.Spec.Implementation, n.Spec.Resources = nil, "", corev1.ResourceRequirements{}
	n.Spec.Groups = []v1alpha1.NodeGroup{
		{Name: "core29", Nodes: 2, Implementation: v1alpha1.ImplementationBitcoind, Image: "example.org/bitcoind:29.3"},
		{Name: "core30", Nodes: 2, Implementation: v1alpha1.ImplementationBitcoind, Image: "example.org/bitcoind:30.0", Config: v1alpha1.NodeConfig{"txindex": "1"}},
		{Name: "knots", Nodes: 2, Implementation: v1alpha1.ImplementationKnots, Image: "example.org/knots:29.3.knots20260210"},
		{Name: "btcd", Nodes: 2, Implementation: v1alpha1.ImplementationBtcd, Image: "example.org/btcd:v0.25.0"},
	}
	return n
}

var allChains = []v1alpha1.Chain{v1alpha1.ChainRegtest, v1alpha1.ChainSignet, v1alpha1.ChainTestnet3, v1alpha1.ChainTestnet4}
var allImplementations = []v1alpha1.Implementation{v1alpha1.ImplementationBitcoind, v1alpha1.ImplementationBtcd}

// TestRenderedObjectsMatchGoldenFiles pins every rendered object for each
// chain and implementation, with and without persistent storage. Run
// "go test ./internal/resources -update" after an intended change and
// review the diff.
func TestRenderedObjectsMatchGoldenFiles(t *testing.T) {
	type tc struct {
		name string
		n    *v1alpha1.BitcoinNetwork
	}
	var cases []tc
	for _, impl := range allImplementations {
		for _, chain := range allChains {
			cases = append(cases, tc{fmt.Sprintf("%s-%s", impl, chain), testNetwork(impl, chain)})
		}
		withStorage := testNetwork(impl, v1alpha1.ChainSignet)
		withStorage.Spec.Storage = &v1alpha1.StorageSpec{
			Size: resource.MustParse("20Gi"), StorageClassName: ptr.To("fast-ssd"), WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
		}
		withStorage.Spec.RPCSecretName = "my-credentials"
		withStorage.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1", "maxconnections": "40"}
		withStorage.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		cases = append(cases, tc{fmt.Sprintf("%s-signet-storage", impl), withStorage})
	}
	cases = append(cases, tc{"groups-regtest", mixedNetwork()})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var docs []string
			objs := []any{DesiredConfigMap(c.n), DesiredService(c.n)}
			if HasImplementation(c.n, v1alpha1.ImplementationBtcd) && len(c.n.Spec.Groups) > 0 {
				objs = append(objs, DesiredBtcdConfigSecret(c.n, Credentials{User: "u", Password: "p"}, "mzminer"))
			}
			for _, g := range Groups(c.n) {
				objs = append(objs, DesiredStatefulSet(c.n, g, NodeParams{Image: cmp.Or(g.Image, "example.org/node:1"), CredentialsHash: "credentials-hash", VolumeGroup: ptr.To(NodeGroup(g.Implementation))}))
			}
			for _, obj := range objs {
				b, err := yaml.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, string(b))
			}
			got := strings.Join(docs, "---\n")
			path := filepath.Join("testdata", c.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("rendered objects differ from %s (run with -update and review the diff):\n%s", path, got)
			}
		})
	}
}

// TestNodePodsPassRestrictedPodSecurity evaluates the pod template with the
// upstream Pod Security Admission checks at the restricted level.
func TestNodePodsPassRestrictedPodSecurity(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, impl := range allImplementations {
		n := testNetwork(impl, v1alpha1.ChainRegtest)
		n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
		for _, storage := range []*v1alpha1.StorageSpec{nil, n.Spec.Storage} {
			n.Spec.Storage = storage
			tmpl := DesiredStatefulSet(n, Groups(n)[0], NodeParams{Image: "example.org/node:1"}).Spec.Template
			results := evaluator.EvaluatePod(api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}, &tmpl.ObjectMeta, &tmpl.Spec)
			for _, r := range results {
				if !r.Allowed {
					t.Errorf("%s (storage %v): restricted check fails: %s: %s", impl, storage != nil, r.ForbiddenReason, r.ForbiddenDetail)
				}
			}
		}
	}
}

func TestPortsAreExplicitInConfigAndService(t *testing.T) {
	for _, impl := range allImplementations {
		for _, chain := range allChains {
			n := testNetwork(impl, chain)
			ports := PortsFor(impl, chain)
			conf := NodeConfig(n, Groups(n)[0])
			wantRPC, wantP2P := fmt.Sprintf("rpcport=%d\n", ports.RPC), fmt.Sprintf("port=%d\n", ports.P2P)
			if impl == v1alpha1.ImplementationBtcd {
				wantRPC, wantP2P = fmt.Sprintf("rpclisten=:%d\n", ports.RPC), fmt.Sprintf("listen=:%d\n", ports.P2P)
			}
			if !strings.Contains(conf, wantRPC) || !strings.Contains(conf, wantP2P) {
				t.Errorf("%s/%s: config lacks %q or %q:\n%s", impl, chain, wantRPC, wantP2P, conf)
			}
			svc := DesiredService(n)
			if svc.Spec.Ports[0].Port != ports.P2P || svc.Spec.Ports[1].Port != ports.RPC {
				t.Errorf("%s/%s: service ports %v, want p2p %d rpc %d", impl, chain, svc.Spec.Ports, ports.P2P, ports.RPC)
			}
		}
	}
}

func TestBitcoindOptionsGoIntoTheChainSection(t *testing.T) {
	// Bitcoin Core ignores port, bind, rpcport and rpcbind outside the
	// chain's section on test chains.
	for chain, section := range map[v1alpha1.Chain]string{
		v1alpha1.ChainRegtest: "[regtest]", v1alpha1.ChainSignet: "[signet]",
		v1alpha1.ChainTestnet3: "[test]", v1alpha1.ChainTestnet4: "[testnet4]",
	} {
		n := testNetwork(v1alpha1.ImplementationBitcoind, chain)
		n.Spec.Config = map[string]v1alpha1.ConfigValue{"addnode": "seed.example:1"}
		conf := NodeConfig(n, Groups(n)[0])
		at := strings.Index(conf, section+"\n")
		if at < 0 {
			t.Fatalf("%s: no %s section:\n%s", chain, section, conf)
		}
		for _, opt := range []string{"rpcport=", "port=", "rpcbind=", "addnode=seed.example:1"} {
			if i := strings.Index(conf, "\n"+opt); i < at {
				t.Errorf("%s: %q is not inside %s:\n%s", chain, opt, section, conf)
			}
		}
	}
}

func TestConfigHashChangesWithConfigAndCredentialsOnly(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	base := ConfigHash(n, Groups(n)[0], "a")
	if ConfigHash(n, Groups(n)[0], "a") != base {
		t.Fatal("config hash is not deterministic")
	}
	if ConfigHash(n, Groups(n)[0], "b") == base {
		t.Error("new credentials do not change the hash")
	}
	scaled := n.DeepCopy()
	scaled.Spec.Nodes = ptr.To[int32](7)
	if ConfigHash(scaled, Groups(scaled)[0], "a") != base {
		t.Error("scaling changes the hash, which would restart every node")
	}
	configured := n.DeepCopy()
	configured.Spec.Config = map[string]v1alpha1.ConfigValue{"txindex": "1"}
	if ConfigHash(configured, Groups(configured)[0], "a") == base {
		t.Error("a config change does not change the hash")
	}
}

func TestGeneratedSecretHoldsMatchingCredentials(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	a, err := NewGeneratedRPCSecret(n)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewGeneratedRPCSecret(n)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := CredentialsFromSecret(a)
	if err != nil {
		t.Fatal(err)
	}
	if creds.User != GeneratedRPCUser || len(creds.Password) != 43 {
		t.Errorf("generated user %q with a %d-character password, want %q and 43 (32 random bytes)", creds.User, len(creds.Password), GeneratedRPCUser)
	}
	if string(a.Data[SecretKeyPassword]) == string(b.Data[SecretKeyPassword]) {
		t.Error("two generated passwords are equal")
	}
	if !rpcauth.Matches(string(a.Data[SecretKeyRPCAuth]), creds.User, creds.Password) {
		t.Error("generated rpcauth does not accept the generated password")
	}
}

func TestDerivedRPCAuthIsStableUntilThePasswordChanges(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	c := Credentials{User: "alice", Password: "pw"}
	first := string(DesiredRPCAuthSecret(n, c).Data[SecretKeyRPCAuth])
	if again := string(DesiredRPCAuthSecret(n, c).Data[SecretKeyRPCAuth]); again != first {
		t.Errorf("rpcauth changed between renders: %q then %q", first, again)
	}
	if !rpcauth.Matches(first, "alice", "pw") {
		t.Errorf("derived rpcauth %q does not accept the password", first)
	}
	c.Password = "pw2"
	if next := string(DesiredRPCAuthSecret(n, c).Data[SecretKeyRPCAuth]); next == first {
		t.Error("a new password did not change the derived rpcauth")
	}
}

func TestCredentialsFromSecretNamesTheMissingKey(t *testing.T) {
	for keys, want := range map[string]string{
		"":            "neither",
		"rpcuser":     "rpcpassword",
		"rpcpassword": "rpcuser",
	} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: map[string][]byte{}}
		if keys != "" {
			s.Data[keys] = []byte("x")
		}
		_, err := CredentialsFromSecret(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("secret with keys %q: error %v, want one mentioning %q", keys, err, want)
		}
	}
}

func TestMaxConnectionsMustLeaveInboundSlotsForThePlan(t *testing.T) {
	for _, tc := range []struct {
		impl     v1alpha1.Implementation
		topology v1alpha1.Topology
		nodes    int32
		max      string
		want     string // in the error; "" for none
	}{
		// A 17-node mesh gives every node 8 inbound connections: 19 = 11 + 8.
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyMesh, 17, "19", ""},
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyMesh, 17, "18", "set maxconnections to at least 19"},
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyMesh, 3, "12", ""},
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyRing, 50, "12", ""},
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyMesh, 100, "16", "plans up to 18 inbound connections"},
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyMesh, 100, "29", ""},
		{v1alpha1.ImplementationBitcoind, v1alpha1.TopologyNone, 100, "12", ""},
		// btcd has no maxconnections; the option is Core's.
		{v1alpha1.ImplementationBtcd, v1alpha1.TopologyMesh, 17, "12", ""},
	} {
		n := testNetwork(tc.impl, v1alpha1.ChainRegtest)
		n.Spec.Topology, n.Spec.Nodes = tc.topology, ptr.To(tc.nodes)
		n.Spec.Config = map[string]v1alpha1.ConfigValue{"maxconnections": v1alpha1.ConfigValue(tc.max)}
		err := CheckConfig(n)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s of %d, maxconnections %s: %v, want no problem", tc.impl, tc.topology, tc.nodes, tc.max, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "spec.config.maxconnections")):
			t.Errorf("%s %s of %d, maxconnections %s: %v, want an error naming spec.config.maxconnections and %q", tc.impl, tc.topology, tc.nodes, tc.max, err, tc.want)
		}
	}
}

func TestColonInTheUserNameIsRejectedForBitcoindOnly(t *testing.T) {
	creds := Credentials{User: "a:b", Password: "p"}
	if err := CheckCredentials(v1alpha1.ImplementationBitcoind, creds); err == nil || !strings.Contains(err.Error(), `"rpcuser"`) {
		t.Errorf("bitcoind with user a:b: %v, want an error naming the rpcuser key", err)
	}
	if err := CheckCredentials(v1alpha1.ImplementationBtcd, creds); err != nil {
		t.Errorf("btcd with user a:b: %v, want none (btcd compares the whole header)", err)
	}
	if err := CheckCredentials(v1alpha1.ImplementationBitcoind, Credentials{User: "alice", Password: "a:b#c $="}); err != nil {
		t.Errorf("a password with ':' is fine (Core splits user:password at the first ':'): %v", err)
	}
	long := Credentials{User: "alice", Password: strings.Repeat("x", 5000)}
	if err := CheckCredentials(v1alpha1.ImplementationBitcoind, long); err == nil || !strings.Contains(err.Error(), "8 KiB") {
		t.Errorf("a 5000-byte password: %v, want an error about Core's header limit", err)
	}
	for _, impl := range allImplementations {
		if err := CheckCredentials(impl, Credentials{User: "alice", Password: "a\x00b"}); err == nil || !strings.Contains(err.Error(), `"rpcpassword"`) {
			t.Errorf("%s with a NUL in the password: %v, want an error naming rpcpassword", impl, err)
		}
	}
}

func TestPersistentVolumesAreWritableByTheNodeUnlessTheClusterAssignsGroups(t *testing.T) {
	for _, impl := range allImplementations {
		n := testNetwork(impl, v1alpha1.ChainRegtest)
		pod := func(group *int64) *corev1.PodSecurityContext {
			return DesiredStatefulSet(n, Groups(n)[0], NodeParams{Image: "x", VolumeGroup: group}).Spec.Template.Spec.SecurityContext
		}
		if sc := pod(ptr.To(NodeGroup(impl))); sc.FSGroup != nil {
			t.Errorf("%s without storage: fsGroup %d, want none (emptyDir is writable)", impl, *sc.FSGroup)
		}
		n.Spec.Storage = &v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
		sc := pod(ptr.To(NodeGroup(impl)))
		if sc.FSGroup == nil || *sc.FSGroup != NodeGroup(impl) || ptr.Deref(sc.FSGroupChangePolicy, "") != corev1.FSGroupChangeOnRootMismatch {
			t.Errorf("%s with storage: fsGroup %v policy %v, want %d changed on root mismatch", impl, sc.FSGroup, sc.FSGroupChangePolicy, NodeGroup(impl))
		}
		if sc := pod(nil); sc.FSGroup != nil {
			t.Errorf("%s with storage where the cluster assigns groups: fsGroup %d, want none", impl, *sc.FSGroup)
		}
	}
}

// The config-hash annotation is readable by anyone who may view the
// StatefulSet: it must not let them test password guesses offline, and it
// changes with the credentials and nothing else of their Secret.
func TestCredentialsHashRevealsNothingAboutThePassword(t *testing.T) {
	secret := func(password string, labels map[string]string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "net-rpc", UID: "3b7f", ResourceVersion: "100", Labels: labels},
			Data:       map[string][]byte{SecretKeyUser: []byte("bitcoin"), SecretKeyPassword: []byte(password)},
		}
	}
	keySecret, err := NewFingerprintKeySecret(testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest))
	if err != nil {
		t.Fatal(err)
	}
	key, err := FingerprintKey(keySecret)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := CredentialsFromSecret(secret("hunter2", nil))
	labelled, _ := CredentialsFromSecret(secret("hunter2", map[string]string{"backup": "daily"}))
	if CredentialsHash(a, key) != CredentialsHash(labelled, key) {
		t.Error("a label on the Secret changes the hash: it would roll the nodes")
	}
	b, _ := CredentialsFromSecret(secret("correct horse battery staple", nil))
	if CredentialsHash(a, key) == CredentialsHash(b, key) {
		t.Error("new credentials keep the hash: they would not roll the nodes")
	}
	// Without the key, the hash is no plain hash of the password.
	for _, unkeyed := range [][]byte{nil, []byte("credentials")} {
		if CredentialsHash(a, unkeyed) == CredentialsHash(a, key) {
			t.Errorf("the hash with key %q is the network's", unkeyed)
		}
	}
	other, _ := NewFingerprintKeySecret(testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest))
	if k2, _ := FingerprintKey(other); CredentialsHash(a, k2) == CredentialsHash(a, key) {
		t.Error("two networks' keys give the same hash of the same password")
	}
	if _, err := FingerprintKey(&corev1.Secret{Data: map[string][]byte{SecretKeyFingerprintKey: []byte("short")}}); err == nil {
		t.Error("a short key is accepted")
	}
}

// btcd reads its credentials from its configuration file, a Secret: no
// password in its arguments or environment, and any password is one line.
func TestBtcdGetsItsCredentialsFromAFileNotItsCommandLine(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBtcd, v1alpha1.ChainRegtest)
	password := "p@ss \"word\"\n#not a comment"
	c := DesiredStatefulSet(n, Groups(n)[0], NodeParams{Image: "x"}).Spec.Template.Spec.Containers[0]
	for _, a := range c.Args {
		if strings.Contains(a, "rpcpass") || strings.Contains(a, "rpcuser") {
			t.Errorf("argument %q carries credentials", a)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			t.Errorf("environment variable %s comes from Secret %s", e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
	conf := string(DesiredBtcdConfigSecret(n, Credentials{User: "bitcoin", Password: password}, "").Data["node.conf"])
	if !strings.HasPrefix(conf, NodeConfig(n, Groups(n)[0])) || !strings.Contains(conf, "\nrpcpass="+strconv.Quote(password)+"\n") {
		t.Errorf("btcd configuration:\n%s", conf)
	}
	if strings.Count(conf, "\n") != strings.Count(NodeConfig(n, Groups(n)[0]), "\n")+3 {
		t.Errorf("the credentials took more than their three lines:\n%s", conf)
	}
}

func TestNetworkPolicyAdmitsOnlyTheNetworkAndTheOperator(t *testing.T) {
	n := testNetwork(v1alpha1.ImplementationBitcoind, v1alpha1.ChainRegtest)
	np := DesiredNetworkPolicy(n, "operators")
	if !maps.Equal(np.Spec.PodSelector.MatchLabels, SelectorLabels(n)) ||
		!slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Fatalf("policy selects %v for %v, want the network's pods, ingress and egress", np.Spec.PodSelector, np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("%d ingress rules, want 2", len(np.Spec.Ingress))
	}
	p2p, rpc := np.Spec.Ingress[0], np.Spec.Ingress[1]
	if p2p.Ports[0].Port.String() != PortNameP2P || len(p2p.From) != 1 || !maps.Equal(p2p.From[0].PodSelector.MatchLabels, SelectorLabels(n)) || p2p.From[0].NamespaceSelector != nil {
		t.Errorf("P2P rule %+v, want the network's own pods only", p2p)
	}
	if rpc.Ports[0].Port.String() != PortNameRPC || len(rpc.From) != 1 || rpc.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "operators" ||
		!maps.Equal(rpc.From[0].PodSelector.MatchLabels, OperatorPodLabels) {
		t.Errorf("RPC rule %+v, want the operator's pods in its namespace only", rpc)
	}
	// Out of a regtest node: DNS, and P2P to the network's own nodes.
	if len(np.Spec.Egress) != 2 {
		t.Fatalf("%d egress rules on regtest, want 2 (DNS, own nodes): %+v", len(np.Spec.Egress), np.Spec.Egress)
	}
	dns, own := np.Spec.Egress[0], np.Spec.Egress[1]
	if len(dns.To) != 0 || len(dns.Ports) != 2 || dns.Ports[0].Port.IntValue() != 53 || dns.Ports[1].Port.IntValue() != 53 {
		t.Errorf("DNS rule %+v, want port 53 over UDP and TCP", dns)
	}
	if len(own.To) != 1 || !maps.Equal(own.To[0].PodSelector.MatchLabels, SelectorLabels(n)) || own.To[0].IPBlock != nil || own.Ports[0].Port.String() != PortNameP2P {
		t.Errorf("own-nodes rule %+v, want P2P to the network's pods only", own)
	}
	// On a public chain also the chain's P2P port, anywhere but link-local.
	for _, impl := range []v1alpha1.Implementation{v1alpha1.ImplementationBitcoind, v1alpha1.ImplementationBtcd} {
		signet := DesiredNetworkPolicy(testNetwork(impl, v1alpha1.ChainSignet), "operators")
		if len(signet.Spec.Egress) != 3 {
			t.Fatalf("%s signet: %d egress rules, want 3", impl, len(signet.Spec.Egress))
		}
		public := signet.Spec.Egress[2]
		if len(public.Ports) != 1 || public.Ports[0].Port.IntValue() != 38333 || len(public.To) != 2 ||
			!slices.Contains(public.To[0].IPBlock.Except, "169.254.0.0/16") || !slices.Contains(public.To[1].IPBlock.Except, "fe80::/10") {
			t.Errorf("%s signet public rule %+v, want port 38333 anywhere but link-local", impl, public)
		}
	}
}

func TestNetworksOfSecretNamesTheNetworksItWouldBlock(t *testing.T) {
	for name, want := range map[string][]string{
		"net-rpc":             {"net"},
		"net-fingerprint-key": {"net"},
		"a-tls":               {"a"},
		"b-miner":             {"b"},
		"team-secret":         nil,
		"-rpc":                nil,
	} {
		if got := NetworksOfSecret(name); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}
