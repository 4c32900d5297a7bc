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

// Package bitcoin is a thin JSON-RPC client for bitcoin nodes (bitcoind and
// btcd). It knows nothing of Kubernetes: it takes an address, credentials
// and a TLS configuration. Every call has a deadline.
package bitcoin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcjson"
)

// DefaultTimeout bounds a call whose context has no earlier deadline.
const DefaultTimeout = 5 * time.Second

// idleConnTimeout closes kept-alive connections well before Bitcoin Core's
// server does (-rpcservertimeout, 30 s by default), so a pooled connection
// is rarely one the server is closing at that moment.
const idleConnTimeout = 15 * time.Second

// maxResponseBytes bounds what the client reads from a node: the largest
// answer the operator asks for (getpeerinfo of a node with a few hundred
// peers) is well below. A node is untrusted input.
const maxResponseBytes = 1 << 20

// ErrUnauthorized means the node rejected the credentials.
var ErrUnauthorized = errors.New("rpc credentials rejected (HTTP 401)")

// RPCError is an error a node returned in a JSON-RPC response; Code is the
// node's error code (btcjson.RPCErrorCode values).
type RPCError = btcjson.RPCError

// ErrorCode returns the JSON-RPC error code in err, and whether it has one.
func ErrorCode(err error) (btcjson.RPCErrorCode, bool) {
	var rpcErr *RPCError
	if errors.As(err, &rpcErr) {
		return rpcErr.Code, true
	}
	return 0, false
}

// Transport is an HTTP transport for node RPC: connections are kept alive
// and reused across reconciles, with a bounded idle pool. tlsConfig is nil
// for plain HTTP (bitcoind).
func Transport(tlsConfig *tls.Config) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   DefaultTimeout,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       idleConnTimeout,
		// Nodes speak HTTP/1.1; no proxies between the operator and pods.
		ForceAttemptHTTP2: false,
		Proxy:             nil,
	}
}

// Endpoint says where and how to reach one node's RPC server.
type Endpoint struct {
	// Address is host:port of the RPC server.
	Address  string
	User     string
	Password string
	// TLS, when set, makes the client use HTTPS with this configuration
	// (its ServerName names the node in its certificate).
	TLS *tls.Config
}

// rpcClient makes JSON-RPC 1.0 calls to one node.
type rpcClient struct {
	url      string
	user     string
	password string
	http     *http.Client
	timeout  time.Duration
	nextID   atomic.Uint64
	observe  Observer
}

// Observer is told of every call a client makes: its method, how long it
// took and how it failed (nil: it did not). It must not block.
type Observer func(method string, took time.Duration, err error)

// Option configures a client made by New.
type Option func(*rpcClient)

// WithObserver has the client report each call to o (e.g. for metrics).
func WithObserver(o Observer) Option { return func(c *rpcClient) { c.observe = o } }

// ErrorClass sorts a call's error for metrics: the JSON-RPC error code
// ("-28"), or "unauthorized", "timeout", "http" (an answer that is no
// JSON-RPC answer) or "transport" (no answer); "" for nil.
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	if code, ok := ErrorCode(err); ok {
		return strconv.Itoa(int(code))
	}
	switch {
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		return "transport"
	}
	return "http"
}

func newRPCClient(e Endpoint, transport http.RoundTripper, timeout time.Duration) *rpcClient {
	scheme := "http"
	if e.TLS != nil {
		scheme = "https"
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &rpcClient{
		url: scheme + "://" + e.Address + "/", user: e.User, password: e.Password,
		// A node's answer is untrusted: a redirect would make the operator
		// request an address of the node's choosing (and its answer could
		// end up in status). No node redirects; the 3xx is an error.
		http:    &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		timeout: timeout,
	}
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type response struct {
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
}

// call invokes method with params and decodes the result into result
// (which may be nil). The call ends at the context's deadline or after the
// client's timeout, whichever comes first. The request may be sent again
// on a new connection when the server closed the kept-alive one it went
// out on (see replayableCall): every method the Node interface calls is
// safe to repeat.
func (c *rpcClient) call(ctx context.Context, method string, result any, params ...any) error {
	return c.do(ctx, c.timeout, true, method, result, params)
}

// do makes one call bounded by timeout. replayable lets the HTTP transport
// resend the request once when a reused connection turns out closed by the
// server: Bitcoin Core closes idle connections after -rpcservertimeout, and
// a request written just as it does so fails with EOF without having been
// read. Such a request is marked with an empty Idempotency-Key header,
// which net/http treats as idempotent and does not send.
func (c *rpcClient) do(ctx context.Context, timeout time.Duration, replayable bool, method string, result any, params []any) (err error) {
	if c.observe != nil {
		start := time.Now()
		defer func() { c.observe(method, time.Since(start), err) }()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(request{JSONRPC: "1.0", ID: c.nextID.Add(1), Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("%s: encoding request: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if replayable {
		req.Header["Idempotency-Key"] = nil
	}
	req.SetBasicAuth(c.user, c.password)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s: reading response: %w", method, err)
	}
	if len(raw) > maxResponseBytes {
		return fmt.Errorf("%s: response larger than %d bytes", method, maxResponseBytes)
	}
	if err := decodeResponse(resp.StatusCode, raw, result); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// decodeResponse reads a JSON-RPC 1.0 answer into result (which may be
// nil). bitcoind answers RPC errors with HTTP 500 (or 404 for unknown
// methods) and a JSON body, btcd with 200: the body is read either way.
func decodeResponse(status int, raw []byte, result any) error {
	if status == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("HTTP %d: undecodable response: %w", status, err)
	}
	if r.Error != nil {
		return r.Error
	}
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d", status)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	return nil
}
