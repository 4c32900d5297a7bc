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

// Command csvscope moves the operator's rules on namespaced resources from
// a bundle CSV's clusterPermissions to its permissions. OLM grants
// permissions in the namespaces the OperatorGroup targets (cluster-wide only
// for AllNamespaces), so an operator installed for one namespace cannot
// touch Secrets, pods or anything else outside it. operator-sdk puts every
// ClusterRole rule into clusterPermissions: the rules come from the same
// +kubebuilder:rbac markers that make the ClusterRole "make deploy" needs
// to watch every namespace.
//
//	go run ./hack/csvscope CSV
package main

import (
	"fmt"
	"os"
	"slices"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// clusterScoped are the only resources the operator needs cluster-wide:
// the reviews that authenticate and authorize its metrics scrapers.
var clusterScoped = []string{"authentication.k8s.io/tokenreviews", "authorization.k8s.io/subjectaccessreviews"}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: csvscope CSV")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "csvscope:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	if err := yaml.UnmarshalStrict(raw, csv); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	spec := &csv.Spec.InstallStrategy.StrategySpec
	for i := range spec.ClusterPermissions {
		cp := &spec.ClusterPermissions[i]
		var keep, move []rbacv1.PolicyRule
		for _, rule := range cp.Rules {
			cluster, namespaced := split(rule)
			if len(cluster.Resources) > 0 {
				keep = append(keep, cluster)
			}
			if len(namespaced.Resources) > 0 {
				move = append(move, namespaced)
			}
		}
		cp.Rules = keep
		if len(move) > 0 {
			spec.Permissions = append(spec.Permissions, operatorsv1alpha1.StrategyDeploymentPermissions{ServiceAccountName: cp.ServiceAccountName, Rules: move})
		}
	}
	out, err := yaml.Marshal(csv)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// split divides a rule's resources into cluster-scoped and namespaced ones.
func split(rule rbacv1.PolicyRule) (cluster, namespaced rbacv1.PolicyRule) {
	cluster, namespaced = *rule.DeepCopy(), *rule.DeepCopy()
	cluster.Resources, namespaced.Resources = nil, nil
	for _, res := range rule.Resources {
		isCluster := false
		for _, g := range rule.APIGroups {
			isCluster = isCluster || slices.Contains(clusterScoped, g+"/"+res)
		}
		if isCluster {
			cluster.Resources = append(cluster.Resources, res)
		} else {
			namespaced.Resources = append(namespaced.Resources, res)
		}
	}
	return cluster, namespaced
}
