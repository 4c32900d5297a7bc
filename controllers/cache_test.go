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

package controllers_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/controllers"
	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

func TestTheSecretCacheKeepsOnlyTheOperatorsOwnData(t *testing.T) {
	secret := func(ours bool) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: map[string]string{
				corev1.LastAppliedConfigAnnotation: `{"data":{"rpcpassword":"aHVudGVyMg=="}}`, "team": "a",
			}},
			Data: map[string][]byte{"rpcpassword": []byte("hunter2")},
		}
		if ours {
			s.Labels = map[string]string{resources.LabelManagedBy: resources.ManagedByValue}
		}
		return s
	}
	foreign, _ := controllers.StripForeignSecretData(secret(false))
	if s := foreign.(*corev1.Secret); s.Data != nil || s.Annotations[corev1.LastAppliedConfigAnnotation] != "" || s.Annotations["team"] != "a" {
		t.Errorf("a user's Secret in the cache: data %v, annotations %v; want neither data nor last-applied copy", s.Data, s.Annotations)
	}
	ours, _ := controllers.StripForeignSecretData(secret(true))
	if s := ours.(*corev1.Secret); string(s.Data["rpcpassword"]) != "hunter2" || s.Annotations[corev1.LastAppliedConfigAnnotation] != "" {
		t.Errorf("the operator's Secret in the cache: data %v, annotations %v; want its data and no last-applied copy", s.Data, s.Annotations)
	}
}

// No cached object keeps its managedFields, which the operator never reads.
func TestTheCacheDropsManagedFields(t *testing.T) {
	fields := []metav1.ManagedFieldsEntry{{Manager: "bitcoin-network-operator", Operation: metav1.ManagedFieldsOperationApply}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", ManagedFields: fields}}
	transform := controllers.CacheOptions(nil).DefaultTransform
	if transform == nil {
		t.Fatal("no default cache transform")
	}
	if out, err := transform(pod); err != nil || len(out.(*corev1.Pod).ManagedFields) != 0 {
		t.Errorf("a cached pod keeps managedFields %v (%v)", out.(*corev1.Pod).ManagedFields, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", ManagedFields: fields}}
	if out, _ := controllers.StripForeignSecretData(secret); len(out.(*corev1.Secret).ManagedFields) != 0 {
		t.Error("a cached Secret keeps its managedFields")
	}
}
