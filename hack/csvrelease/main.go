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

// Command csvrelease sets the release fields of the base
// ClusterServiceVersion that "operator-sdk generate bundle" starts from:
// the operator image (containerImage) and the upgrade edge (spec.replaces
// and the olm.skipRange annotation). relatedImages come from the manager's
// RELATED_IMAGE_* variables, which operator-sdk collects.
//
//	go run ./hack/csvrelease CSV VERSION PREVIOUS_VERSION IMAGE
package main

import (
	"fmt"
	"os"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"sigs.k8s.io/yaml"
)

const pkg = "bitcoin-network-operator"

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: csvrelease CSV VERSION PREVIOUS_VERSION IMAGE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintln(os.Stderr, "csvrelease:", err)
		os.Exit(1)
	}
}

func run(path, version, previous, image string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	if err := yaml.UnmarshalStrict(raw, csv); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if csv.Annotations == nil {
		csv.Annotations = map[string]string{}
	}
	csv.Annotations["containerImage"] = image
	if previous == "" {
		csv.Spec.Replaces = ""
		delete(csv.Annotations, "olm.skipRange")
	} else {
		csv.Spec.Replaces = pkg + ".v" + previous
		// Any older version upgrades straight to this one.
		csv.Annotations["olm.skipRange"] = "<" + version
	}
	out, err := yaml.Marshal(csv)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
