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

package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

func TestServerCertificateVerifiesByWildcardNameAgainstItsCAOnly(t *testing.T) {
	now := time.Now()
	b, err := Issue("net CA", []string{"*.net.btc.svc", "localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, now)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(b.ServerCert, b.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool, err := CertPool(b.CACert)
	if err != nil {
		t.Fatal(err)
	}
	for name, wantOK := range map[string]bool{
		"net-0.net.btc.svc":   true,
		"net-17.net.btc.svc":  true,
		"net-0.other.btc.svc": false,
		"net.btc.svc":         false,
	} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now})
		if (err == nil) != wantOK {
			t.Errorf("verify as %s: %v, want ok=%v", name, err, wantOK)
		}
	}
	other, err := Issue("other CA", []string{"*.net.btc.svc"}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	otherPool, _ := CertPool(other.CACert)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "net-0.net.btc.svc", Roots: otherPool, CurrentTime: now}); err == nil {
		t.Error("certificate verified against another network's CA")
	}
	if Fingerprint(b.CACert) == Fingerprint(other.CACert) {
		t.Error("two CAs share a fingerprint")
	}
}
