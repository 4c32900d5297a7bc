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

package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

// applyObject server-side applies a rendered object under the operator's
// field owner, taking back any field someone else changed (drift repair).
// The API server computes the diff: there is no read-modify-write here.
func applyObject(ctx context.Context, c client.Client, obj client.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("converting %T %s: %w", obj, obj.GetName(), err)
	}
	// A typed object carries fields it never set (status, null timestamps);
	// applying them would claim ownership of fields the operator does not
	// manage.
	delete(u, "status")
	pruneNulls(u)
	if tmpls, ok, _ := unstructured.NestedSlice(u, "spec", "volumeClaimTemplates"); ok {
		for _, t := range tmpls {
			if m, ok := t.(map[string]any); ok {
				delete(m, "status")
			}
		}
		_ = unstructured.SetNestedSlice(u, tmpls, "spec", "volumeClaimTemplates")
	}
	ac := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u})
	if err := c.Apply(ctx, ac, client.FieldOwner(resources.FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// pruneNulls removes null values (zero timestamps and unset pointers that
// the converter keeps) from a JSON object, recursively.
func pruneNulls(m map[string]any) {
	for k, v := range m {
		switch vv := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			pruneNulls(vv)
		case []any:
			for _, item := range vv {
				if im, ok := item.(map[string]any); ok {
					pruneNulls(im)
				}
			}
		}
	}
}
