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

// Package rpcauth computes Bitcoin Core's rpcauth credentials: a line that
// lets bitcoind check a password without the password ever appearing in its
// configuration.
package rpcauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Value returns the value of Bitcoin Core's rpcauth option for user and
// password with the given hex salt: "user:salt$hmac", where hmac is the
// HMAC-SHA256 of the password keyed by the salt's hex text (as
// share/rpcauth/rpcauth.py computes it).
func Value(user, salt, password string) string {
	mac := hmac.New(sha256.New, []byte(salt))
	mac.Write([]byte(password))
	return user + ":" + salt + "$" + hex.EncodeToString(mac.Sum(nil))
}

// NewSalt returns a random 16-byte salt in hex, like rpcauth.py.
func NewSalt() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random salt: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Matches reports whether value is a well-formed rpcauth value for user
// that accepts password.
func Matches(value, user, password string) bool {
	u, rest, ok := strings.Cut(value, ":")
	if !ok || u != user {
		return false
	}
	salt, _, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	return hmac.Equal([]byte(Value(user, salt, password)), []byte(value))
}
