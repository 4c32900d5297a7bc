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

package main

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

func TestWatchNamespacesFollowsOLMTargetNamespaces(t *testing.T) {
	for env, want := range map[string][]string{
		"":                   nil, // AllNamespaces install mode
		"  ":                 nil,
		"team-a":             {"team-a"},           // OwnNamespace / SingleNamespace
		"team-a,team-b":      {"team-a", "team-b"}, // MultiNamespace
		" team-a , ,team-b ": {"team-a", "team-b"},
	} {
		got := watchNamespaces(env)
		if want == nil {
			if got != nil {
				t.Errorf("WATCH_NAMESPACE=%q: %v, want all namespaces (nil)", env, got)
			}
			continue
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
			t.Errorf("WATCH_NAMESPACE=%q: %v, want %v", env, keys, want)
		}
	}
}

func TestVolumeGroupIsSetExceptWhereOpenShiftAssignsOne(t *testing.T) {
	vanilla := func() ([]string, error) { return []string{"", "apps", "storage.k8s.io"}, nil }
	openShift := func() ([]string, error) {
		return []string{"", "apps", "security.openshift.io", "route.openshift.io"}, nil
	}
	unreachable := func() ([]string, error) { return nil, errors.New("connection refused") }
	for _, tc := range []struct {
		mode    string
		groups  func() ([]string, error)
		want    bool
		wantErr bool
	}{
		{"auto", vanilla, true, false},
		{"auto", openShift, false, false},
		{"auto", unreachable, false, true},
		{"true", openShift, true, false},
		{"false", vanilla, false, false},
		{"yes", vanilla, false, true},
	} {
		got, err := resolveVolumeGroup(tc.mode, tc.groups)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("--volume-fsgroup=%s: %v, %v; want %v (error %v)", tc.mode, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestTheGoHeapStaysUnderTheContainersMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want int64
		ok   bool
	}{
		{map[string]string{"MEMORY_LIMIT": "268435456"}, 241591910, true}, // 256Mi: 90 %, rounded down
		{map[string]string{"MEMORY_LIMIT": "268435456", "GOMEMLIMIT": "100MiB"}, 0, false},
		{map[string]string{}, 0, false},
		{map[string]string{"MEMORY_LIMIT": "0"}, 0, false},
		{map[string]string{"MEMORY_LIMIT": "lots"}, 0, false},
	} {
		got, ok := softMemoryLimit(func(k string) string { return c.env[k] })
		if got != c.want || ok != c.ok {
			t.Errorf("%v: %d, %v; want %d, %v", c.env, got, ok, c.want, c.ok)
		}
	}
}
