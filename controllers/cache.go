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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/internal/resources"
)

// CacheOptions keep the operator's memory proportional to its own objects:
// pods, StatefulSets, Services, ConfigMaps and NetworkPolicies are cached only when the
// operator manages them, and Secrets it does not manage are cached without
// their data (it reads a user's Secret directly when it needs it). An empty
// namespaces map watches all namespaces.
func CacheOptions(namespaces map[string]cache.Config) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{resources.LabelManagedBy: resources.ManagedByValue})
	return cache.Options{
		DefaultNamespaces: namespaces,
		// The operator never reads managedFields (server-side apply keeps
		// them on the server); each object's list of field owners would
		// otherwise take about as much memory as the object.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}:                 {Label: managed},
			&appsv1.StatefulSet{}:         {Label: managed},
			&corev1.Service{}:             {Label: managed},
			&corev1.ConfigMap{}:           {Label: managed},
			&networkingv1.NetworkPolicy{}: {Label: managed},
			&corev1.Secret{}:              {Transform: StripForeignSecretData},
		},
	}
}

// StripForeignSecretData is a cache transform for Secrets: it keeps the data
// of the Secrets the operator manages and drops it from every other Secret,
// whose changes the operator only needs to notice (a user's Secret named in
// spec.rpcSecretName is read from the API server when needed). From every
// Secret it drops kubectl's last-applied-configuration annotation, a copy
// of the data as it was applied, and the managedFields.
func StripForeignSecretData(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	// This transform replaces the default one for Secrets.
	s.ManagedFields = nil
	delete(s.Annotations, corev1.LastAppliedConfigAnnotation)
	if s.Labels[resources.LabelManagedBy] != resources.ManagedByValue {
		s.Data, s.StringData = nil, nil
	}
	return s, nil
}
