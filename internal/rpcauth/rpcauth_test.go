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

package rpcauth

import "testing"

// Vectors from Bitcoin Core's functional test rpc_users.py, whose node
// accepts these users and passwords.
func TestValueMatchesBitcoinCoreVectors(t *testing.T) {
	tests := []struct {
		user, salt, password, want string
	}{
		{
			user: "rt", salt: "93648e835a54c573682c2eb19f882535",
			password: "cA773lm788buwYe4g4WT+05pKyNruVKjQ25x3n0DQcM=",
			want:     "rt:93648e835a54c573682c2eb19f882535$7681e9c5b74bdd85e78166031d2058e1069b3ed7ed967c93fc63abba06f31144",
		},
		{
			// Core accepts an empty salt too.
			user: "def", salt: "", password: "abc",
			want: "def:$fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351",
		},
	}
	for _, tt := range tests {
		if got := Value(tt.user, tt.salt, tt.password); got != tt.want {
			t.Errorf("Value(%q, %q, …) = %q, want %q", tt.user, tt.salt, got, tt.want)
		}
		if !Matches(tt.want, tt.user, tt.password) {
			t.Errorf("Matches(%q, %q, password) = false, want true", tt.want, tt.user)
		}
	}
}

func TestMatchesRejectsWrongUserPasswordAndMalformedValues(t *testing.T) {
	good := Value("bitcoin", "00112233445566778899aabbccddeeff", "secret")
	for name, tc := range map[string]struct{ value, user, password string }{
		"wrong password": {good, "bitcoin", "Secret"},
		"wrong user":     {good, "bitcoin2", "secret"},
		"no colon":       {"bitcoin", "bitcoin", "secret"},
		"no dollar":      {"bitcoin:abc", "bitcoin", "secret"},
		"tampered hmac":  {flipLast(good), "bitcoin", "secret"},
	} {
		if Matches(tc.value, tc.user, tc.password) {
			t.Errorf("%s: Matches(%q) = true, want false", name, tc.value)
		}
	}
}

func TestNewSaltIsRandomHex(t *testing.T) {
	a, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || a == b {
		t.Fatalf("salts %q and %q: want two different 32-character hex strings", a, b)
	}
}

// flipLast changes the last hex digit of s.
func flipLast(s string) string {
	last := s[len(s)-1]
	if last == '0' {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}
