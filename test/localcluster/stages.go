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

package localcluster

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/test/envtest"
)

var (
	readyCondition = regexp.MustCompile(`status: "True"(\s+)type: (Ready|ContainersReady)\b`)
	containerReady = regexp.MustCompile(`ready: true(\s+restartCount: 0\s+state:\s+running:)`)
)

// nodePodLabel selects the bitcoin node pods in kwok's jq-like selectors.
var nodePodLabel = fmt.Sprintf(`.metadata.labels["%s"]`, resources.LabelManagedBy)

// writeStages writes kwok's stages for this cluster: kwok's own fast
// stages, except that bitcoin node pods start Running but not Ready. kwok
// marks every pod Ready at once; a kubelet marks a pod Ready only once its
// readiness probe passes, which for node pods the pod simulator reports.
func writeStages(from, to string) error {
	raw, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	stages, err := envtest.DecodeYAML(raw)
	if err != nil {
		return err
	}
	var docs []string
	for _, s := range stages {
		obj := s.Object
		if s.GetName() == "pod-ready" {
			notNode := map[string]any{"key": nodePodLabel, "operator": "NotIn", "values": []any{resources.ManagedByValue}}
			exprs := obj["spec"].(map[string]any)["selector"].(map[string]any)["matchExpressions"].([]any)
			node := s.DeepCopy()
			obj["spec"].(map[string]any)["selector"].(map[string]any)["matchExpressions"] = append(slices.Clone(exprs), notNode)

			node.SetName("bitcoin-node-pod-running")
			spec := node.Object["spec"].(map[string]any)
			isNode := map[string]any{"key": nodePodLabel, "operator": "In", "values": []any{resources.ManagedByValue}}
			spec["selector"].(map[string]any)["matchExpressions"] = append(slices.Clone(exprs), isNode)
			next := spec["next"].(map[string]any)
			tmpl := next["statusTemplate"].(string)
			unready := readyCondition.ReplaceAllString(tmpl, `status: "False"${1}type: ${2}`)
			unready = containerReady.ReplaceAllString(unready, "ready: false${1}")
			if strings.Count(unready, `status: "False"`) != 2 || !strings.Contains(unready, "ready: false") {
				return fmt.Errorf("kwok's pod-ready stage changed shape: cannot make node pods start unready")
			}
			next["statusTemplate"] = unready
			b, err := yaml.Marshal(node.Object)
			if err != nil {
				return err
			}
			docs = append(docs, string(b))
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		docs = append(docs, string(b))
	}
	return os.WriteFile(to, []byte(strings.Join(docs, "---\n")), 0o600)
}
