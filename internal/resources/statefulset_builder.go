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
	"crypto/sha256"
	"encoding/hex"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// Volume names of a node pod.
const (
	volumeConfig = "config"
	volumeData   = "data"
	volumeTmp    = "tmp"
	volumeTLS    = "tls"
)

// envRPCAuth is the environment variable a bitcoind container gets its
// rpcauth value from (a salted HMAC, never the password).
const envRPCAuth = "BITCOIN_RPCAUTH"

// NodeParams is what the controller resolved for a network's nodes.
type NodeParams struct {
	// Image is the node image: spec.image or the operator's default.
	Image string
	// CredentialsHash fingerprints the RPC credentials (see CredentialsHash)
	// and, for btcd, the TLS certificate: new ones roll the nodes.
	CredentialsHash string
	// VolumeGroup, when set, is the pod's fsGroup on networks with
	// persistent storage: the kubelet makes each volume writable by that
	// group, so a non-root node can write a freshly provisioned volume
	// owned by root. Left unset on OpenShift, whose restricted SCC assigns
	// every pod a group from its namespace's range (and rejects others).
	VolumeGroup *int64
}

// NodeGroup is the group of the user the default node images run as: the
// bitcoin user of the bitcoin/bitcoin image (101) and distroless's nonroot
// (65532). Any group works as fsGroup (the kubelet adds it to the node
// process's groups); this one also owns what the image writes itself.
func NodeGroup(impl v1alpha1.Implementation) int64 {
	if impl == v1alpha1.ImplementationBtcd {
		return 65532
	}
	return 101
}

// ConfigHash is the pod template annotation value of a group: it changes
// whenever the group's node configuration file or the RPC credentials
// change. It is derived from nothing secret (see CredentialsHash).
func ConfigHash(n *v1alpha1.BitcoinNetwork, g Group, credentialsHash string) string {
	h := sha256.New()
	h.Write([]byte(NodeConfig(n, g)))
	h.Write([]byte{0})
	h.Write([]byte(credentialsHash))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// DesiredStatefulSet renders the StatefulSet that runs a group's nodes.
func DesiredStatefulSet(n *v1alpha1.BitcoinNetwork, g Group, p NodeParams) *appsv1.StatefulSet {
	meta := objectMeta(n, GroupStatefulSetName(n, g))
	meta.Labels = GroupLabels(n, g)
	sts := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: meta,
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(g.Nodes),
			ServiceName: ServiceName(n),
			Selector:    &metav1.LabelSelector{MatchLabels: GroupSelectorLabels(n, g)},
			// Nodes are peers, not a quorum: start and stop them together.
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      GroupLabels(n, g),
					Annotations: map[string]string{AnnotationConfigHash: ConfigHash(n, g, p.CredentialsHash)},
				},
				Spec: podSpec(n, g, p),
			},
		},
	}
	if s := n.Spec.Storage; s != nil {
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: metav1.ObjectMeta{Name: volumeData, Labels: GroupLabels(n, g)},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: s.StorageClassName,
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: s.Size}},
			},
		}}
		sts.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: orRetain(s.WhenDeleted),
			WhenScaled:  orRetain(s.WhenScaled),
		}
	}
	return sts
}

func orRetain(p appsv1.PersistentVolumeClaimRetentionPolicyType) appsv1.PersistentVolumeClaimRetentionPolicyType {
	if p == "" {
		return appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	return p
}

func podSpec(n *v1alpha1.BitcoinNetwork, g Group, p NodeParams) corev1.PodSpec {
	// A group's pods see their own group's configuration as node.conf.
	var items []corev1.KeyToPath
	if g.Name != "" {
		items = []corev1.KeyToPath{{Key: configKey(g), Path: configFile}}
	}
	config := corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(n)}, Items: items}}
	if g.Implementation == v1alpha1.ImplementationBtcd {
		// btcd's configuration holds its credentials (see
		// DesiredBtcdConfigSecret).
		config = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: BtcdConfigSecretName(n), Items: items}}
	}
	volumes := []corev1.Volume{
		{Name: volumeConfig, VolumeSource: config},
		{Name: volumeTmp, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if n.Spec.Storage == nil {
		volumes = append(volumes, corev1.Volume{Name: volumeData, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	if g.Implementation == v1alpha1.ImplementationBtcd {
		volumes = append(volumes, corev1.Volume{Name: volumeTLS, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: TLSSecretName(n),
			Items: []corev1.KeyToPath{
				{Key: corev1.TLSCertKey, Path: corev1.TLSCertKey},
				{Key: corev1.TLSPrivateKeyKey, Path: corev1.TLSPrivateKeyKey},
			},
		}}})
	}
	securityContext := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if n.Spec.Storage != nil && p.VolumeGroup != nil {
		securityContext.FSGroup = p.VolumeGroup
		// Change ownership once, not at every start of a large chain.
		securityContext.FSGroupChangePolicy = ptr.To(corev1.FSGroupChangeOnRootMismatch)
	}
	return corev1.PodSpec{
		// Nodes never call the Kubernetes API.
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		// bitcoind flushes its chain state on SIGTERM; give it time.
		TerminationGracePeriodSeconds: ptr.To[int64](120),
		SecurityContext:               securityContext,
		Containers:                    []corev1.Container{nodeContainer(n, g, p)},
		Volumes:                       volumes,
		NodeSelector:                  g.NodeSelector,
		Tolerations:                   g.Tolerations,
		Affinity:                      g.Affinity,
	}
}

func nodeContainer(n *v1alpha1.BitcoinNetwork, g Group, p NodeParams) corev1.Container {
	ports := PortsFor(g.Implementation, n.Spec.Chain)
	c := corev1.Container{
		Name:            string(g.Implementation),
		Image:           p.Image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Ports: []corev1.ContainerPort{
			{Name: PortNameP2P, ContainerPort: ports.P2P, Protocol: corev1.ProtocolTCP},
			{Name: PortNameRPC, ContainerPort: ports.RPC, Protocol: corev1.ProtocolTCP},
		},
		// The root filesystem is read-only: HOME points at the data volume
		// for anything a node writes next to its data.
		Env:       []corev1.EnvVar{{Name: "HOME", Value: DataDir}},
		Resources: g.Resources,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: volumeConfig, MountPath: ConfigDir, ReadOnly: true},
			{Name: volumeData, MountPath: DataDir},
			{Name: volumeTmp, MountPath: TmpDir},
		},
		// Startup allows a long block-index load; liveness only asks that
		// the RPC port accepts connections, which it does while loading.
		StartupProbe:  tcpProbe(PortNameRPC, 5, 120),
		LivenessProbe: tcpProbe(PortNameRPC, 20, 6),
	}
	if g.Implementation == v1alpha1.ImplementationBtcd {
		c.Command = []string{"btcd"}
		c.Args = []string{"--configfile=" + ConfigFilePath}
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volumeTLS, MountPath: TLSDir, ReadOnly: true})
		// btcctl would need the credentials, which an exec probe cannot read
		// from the environment without a shell: btcd serves RPC as soon as
		// its chain is open, so an open RPC port means ready.
		c.ReadinessProbe = tcpProbe(PortNameRPC, 10, 3)
		return c
	}
	c.Command = []string{"bitcoind"}
	c.Args = []string{
		"-conf=" + ConfigFilePath,
		"-datadir=" + DataDir,
		// rpcauth holds a salted HMAC, never the password.
		"-rpcauth=$(" + envRPCAuth + ")",
	}
	c.Env = append(c.Env, secretEnv(envRPCAuth, RPCAuthSourceSecretName(n), SecretKeyRPCAuth))
	// bitcoin-cli authenticates with the node's cookie file; the call fails
	// with -28 while the node is still loading, which keeps it unready.
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{
			"bitcoin-cli", "-conf=" + ConfigFilePath, "-datadir=" + DataDir, "getblockchaininfo",
		}}},
		PeriodSeconds:    10,
		TimeoutSeconds:   5,
		FailureThreshold: 3,
	}
	return c
}

// RPCAuthSourceSecretName is the Secret whose rpcauth key a bitcoind node
// reads: the generated Secret, or the one derived from the user's Secret.
func RPCAuthSourceSecretName(n *v1alpha1.BitcoinNetwork) string {
	if n.Spec.RPCSecretName == "" {
		return GeneratedRPCSecretName(n)
	}
	return RPCAuthSecretName(n)
}

func secretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret},
		Key:                  key,
	}}}
}

func tcpProbe(port string, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(port)}},
		PeriodSeconds:    period,
		TimeoutSeconds:   3,
		FailureThreshold: failures,
	}
}
