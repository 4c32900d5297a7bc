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

package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcjson"
)

// Implementation names a node's RPC dialect.
type Implementation string

// The dialects.
const (
	Bitcoind Implementation = "bitcoind"
	Btcd     Implementation = "btcd"
)

// AddedNode is a peer added with addnode, and whether it is connected.
type AddedNode struct {
	Address   string
	Connected bool
}

// Peer is a live connection of a node.
type Peer struct {
	// ID is the node's id of the connection (disconnect by id closes
	// exactly it).
	ID      int64  `json:"id"`
	Address string `json:"addr"`
	Inbound bool   `json:"inbound"`
}

// ChainInfo is a node's view of its chain.
type ChainInfo struct {
	Chain         string `json:"chain"`
	Blocks        int64  `json:"blocks"`
	Headers       int64  `json:"headers"`
	BestBlockHash string `json:"bestblockhash"`
	// ChainWork is the total work of the best chain, in hex; empty where
	// the node does not report it (btcd).
	ChainWork string `json:"chainwork"`
	// InitialBlockDownload is nil where the node does not report it (btcd).
	InitialBlockDownload *bool `json:"initialblockdownload"`
	// Difficulty of the best block, as a multiple of the easiest (both
	// implementations report it).
	Difficulty float64 `json:"difficulty"`
}

// BlockPlace is where a block stands for a node.
type BlockPlace int

// The places of a block.
const (
	// BlockUnknown: the node has not seen the block.
	BlockUnknown BlockPlace = iota
	// BlockOnBestChain: the block is on the node's best chain.
	BlockOnBestChain
	// BlockOffBestChain: the node knows the block, on another branch.
	BlockOffBestChain
)

// NetworkInfo is a node's software version and connection count.
type NetworkInfo struct {
	Version     int    `json:"version"`
	Subversion  string `json:"subversion"`
	Connections int    `json:"connections"`
}

// Node is the RPC surface the operator uses, the same for both dialects.
// AddPeer and RemovePeer succeed when the peer is already added or already
// absent: each implementation's code for that is absorbed here.
type Node interface {
	// AddedNodes lists the peers added with addnode (getaddednodeinfo).
	AddedNodes(ctx context.Context) ([]AddedNode, error)
	// AddPeer adds a persistent peer (addnode add).
	AddPeer(ctx context.Context, address string) error
	// ConnectOnce connects to a peer now, without adding it (addnode
	// onetry). On bitcoind it returns once the connection is made or has
	// failed, which can take Core's connect timeout: its deadline is the
	// client's timeout plus ConnectTimeout.
	ConnectOnce(ctx context.Context, address string) error
	// RemovePeer removes an added peer (addnode remove) and closes every
	// outbound connection to it, by connection id.
	RemovePeer(ctx context.Context, address string) error
	// CloseConnection closes one connection by its id (getpeerinfo's id);
	// one already closed is no error.
	CloseConnection(ctx context.Context, id int64) error
	// Peers lists live connections (getpeerinfo).
	Peers(ctx context.Context) ([]Peer, error)
	// ChainInfo describes the node's chain (getblockchaininfo).
	ChainInfo(ctx context.Context) (ChainInfo, error)
	// NetworkInfo gives version and connection count (bitcoind
	// getnetworkinfo, btcd getinfo: btcd does not implement getnetworkinfo).
	NetworkInfo(ctx context.Context) (NetworkInfo, error)
	// BlockCount is the height of the node's best chain (getblockcount).
	BlockCount(ctx context.Context) (int64, error)
	// BlockPlace says where a block stands for the node (getblockheader).
	BlockPlace(ctx context.Context, hash string) (BlockPlace, error)
	// MempoolSize is the number of transactions in the node's mempool
	// (getmempoolinfo).
	MempoolSize(ctx context.Context) (int64, error)
	// BlockTemplate asks for a template of the next block with the given
	// rules (getblocktemplate), decoded into into.
	BlockTemplate(ctx context.Context, rules []string, into any) error
	// BlockHash is the hash of the block at height on the node's best
	// chain (getblockhash).
	BlockHash(ctx context.Context, height int64) (string, error)
	// BlockAt returns the block at height on the node's best chain,
	// serialized, in hex (getblockhash, getblock with verbosity 0).
	BlockAt(ctx context.Context, height int64) (string, error)
	// SubmitBlock hands the node a serialized block (submitblock); one it
	// already has is no error, one it rejects is, with its reason.
	SubmitBlock(ctx context.Context, block string) error
	// Mine mines count blocks paying to address and returns their hashes
	// (bitcoind generatetoaddress; btcd generate, which pays to the node's
	// own --miningaddr, so address must be that one). Never sent twice;
	// its deadline is the client's timeout plus MineTimeout.
	Mine(ctx context.Context, count int, address string) ([]string, error)
	// Banned lists the addresses the node has banned (listbanned), as
	// subnets ("10.0.0.7/32"); Ban bans one IP address for BanTime (setban
	// add, which also closes its connections) and Unban lifts a ban (setban
	// remove). Both succeed when there is nothing to do. btcd has no ban
	// list: its three answer ErrNoBanList.
	Banned(ctx context.Context) ([]string, error)
	Ban(ctx context.Context, ip string) error
	Unban(ctx context.Context, subnet string) error
	// ChainTips lists the node's known chain tips (getchaintips): after a
	// reorganisation the replaced best block is a tip with status
	// "valid-fork" whose branch length is the depth of the reorganisation.
	ChainTips(ctx context.Context) ([]ChainTip, error)
}

// ChainTip is one entry of getchaintips.
type ChainTip struct {
	Height    int64  `json:"height"`
	Hash      string `json:"hash"`
	BranchLen int64  `json:"branchlen"`
	Status    string `json:"status"`
}

// ErrNoBanList is what btcd's ban calls answer: its RPC has no setban.
var ErrNoBanList = errors.New("btcd has no ban list (no setban RPC)")

// BanTime is how long a ban lasts (seconds). A fault's bans are renewed
// while it lasts, so this only bounds how long one forgotten by a crash
// could outlive it.
const BanTime = 24 * 60 * 60

// maxTips bounds what getchaintips may list (regtest experiments make a
// few; a node listing more is not believed).
const maxTips = 10000

// MineTimeout is the extra time a Mine call gets: mining is CPU work, even
// on regtest.
const MineTimeout = 20 * time.Second

// New returns a Node speaking impl's dialect to the endpoint. transport is
// shared between clients (see Transport); timeout bounds each call (0 means
// DefaultTimeout).
func New(impl Implementation, e Endpoint, transport http.RoundTripper, timeout time.Duration, opts ...Option) Node {
	c := newRPCClient(e, transport, timeout)
	for _, o := range opts {
		o(c)
	}
	if impl == Btcd {
		return &btcdNode{rpcClient: c}
	}
	return &bitcoindNode{rpcClient: c}
}

// IsWarmingUp reports whether err is a node's "still loading" answer (-28):
// the node is alive but not ready.
func IsWarmingUp(err error) bool {
	code, ok := ErrorCode(err)
	return ok && code == btcjson.ErrRPCInWarmup
}

// common implements the calls both dialects share.
type common struct{ *rpcClient }

func (c common) Peers(ctx context.Context) ([]Peer, error) {
	var peers []Peer
	if err := c.call(ctx, "getpeerinfo", &peers); err != nil {
		return nil, err
	}
	if len(peers) > maxPeers {
		return nil, fmt.Errorf("getpeerinfo: %d peers, more than %d", len(peers), maxPeers)
	}
	return peers, nil
}

func (c common) ChainInfo(ctx context.Context) (ChainInfo, error) {
	var info ChainInfo
	return info, c.call(ctx, "getblockchaininfo", &info)
}

func (c common) BlockCount(ctx context.Context) (int64, error) {
	var n int64
	return n, c.call(ctx, "getblockcount", &n)
}

// BlockAt reads a block of the best chain, serialized, in hex; both
// implementations take getblock's verbosity 0 for it.
func (c common) BlockAt(ctx context.Context, height int64) (string, error) {
	hash, err := c.BlockHash(ctx, height)
	if err != nil {
		return "", err
	}
	var block string
	return block, c.call(ctx, "getblock", &block, hash, 0)
}

// BlockTemplate: getblocktemplate's template request; a signet node
// wants the signet rule, every node segwit.
func (c common) BlockTemplate(ctx context.Context, rules []string, into any) error {
	return c.call(ctx, "getblocktemplate", into, map[string]any{"rules": rules})
}

// BlockHash: both implementations answer getblockhash alike.
func (c common) BlockHash(ctx context.Context, height int64) (string, error) {
	var hash string
	return hash, c.call(ctx, "getblockhash", &hash, height)
}

// SubmitBlock: both implementations answer null for a block they took and
// a reason otherwise ("duplicate" for one they have).
func (c common) SubmitBlock(ctx context.Context, block string) error {
	var reason *string
	if err := c.call(ctx, "submitblock", &reason, block); err != nil {
		return err
	}
	if reason != nil && *reason != "duplicate" {
		return fmt.Errorf("submitblock: %s", *reason)
	}
	return nil
}

// MempoolSize reads getmempoolinfo's size, which both implementations
// report.
func (c common) MempoolSize(ctx context.Context) (int64, error) {
	var info struct {
		Size int64 `json:"size"`
	}
	return info.Size, c.call(ctx, "getmempoolinfo", &info)
}

// outboundIDs are the ids of the node's outbound connections to address:
// a node may hold several under one address (an added one, one from
// addrman), and closing by address closes only the first.
func (c common) outboundIDs(ctx context.Context, address string) ([]int64, error) {
	peers, err := c.Peers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, p := range peers {
		if !p.Inbound && p.Address == address {
			ids = append(ids, p.ID)
		}
	}
	return ids, nil
}

func (c common) ChainTips(ctx context.Context) ([]ChainTip, error) {
	var tips []ChainTip
	if err := c.call(ctx, "getchaintips", &tips); err != nil {
		return nil, err
	}
	if len(tips) > maxTips {
		return nil, fmt.Errorf("getchaintips: %d tips, more than %d", len(tips), maxTips)
	}
	return tips, nil
}

// headerConfirmations asks getblockheader for a block's confirmations; a
// block the node has not seen is -5 on both implementations.
func (c common) headerConfirmations(ctx context.Context, hash string) (confirmations int64, known bool, err error) {
	var h struct {
		Confirmations int64 `json:"confirmations"`
	}
	err = c.call(ctx, "getblockheader", &h, hash, true)
	if code, ok := ErrorCode(err); ok && code == btcjson.ErrRPCBlockNotFound {
		return 0, false, nil
	}
	return h.Confirmations, err == nil, err
}

func (c common) addNode(ctx context.Context, address string, sub btcjson.AddNodeSubCmd) error {
	return c.call(ctx, "addnode", nil, address, string(sub))
}

// Bounds on what a node may list; more is not a node the operator can
// trust to be what it says (Core keeps at most a few hundred connections).
const (
	maxAddedNodes = 1000
	maxPeers      = 10000
)

// addedNodes decodes getaddednodeinfo objects, whose shape both
// implementations share (btcd only with its dns argument set), one entry
// per address.
func addedNodes(results []btcjson.GetAddedNodeInfoResult) ([]AddedNode, error) {
	if len(results) > maxAddedNodes {
		return nil, fmt.Errorf("getaddednodeinfo: %d added nodes, more than %d", len(results), maxAddedNodes)
	}
	out := make([]AddedNode, 0, len(results))
	seen := map[string]int{}
	for _, r := range results {
		connected := r.Connected != nil && *r.Connected
		if i, dup := seen[r.AddedNode]; dup {
			out[i].Connected = out[i].Connected || connected
			continue
		}
		seen[r.AddedNode] = len(out)
		out = append(out, AddedNode{Address: r.AddedNode, Connected: connected})
	}
	return out, nil
}

// bitcoindNode speaks Bitcoin Core's dialect.
type bitcoindNode struct{ *rpcClient }

func (n *bitcoindNode) common() common { return common{n.rpcClient} }

func (n *bitcoindNode) AddedNodes(ctx context.Context) ([]AddedNode, error) {
	var results []btcjson.GetAddedNodeInfoResult
	if err := n.call(ctx, "getaddednodeinfo", &results); err != nil {
		return nil, err
	}
	return addedNodes(results)
}

func (n *bitcoindNode) AddPeer(ctx context.Context, address string) error {
	return ignoreCode(n.common().addNode(ctx, address, btcjson.ANAdd), btcjson.ErrRPCClientNodeAlreadyAdded)
}

// ConnectTimeout is Bitcoin Core's default connect timeout (-timeout).
// addnode onetry connects synchronously inside the call, so the call can
// take this long on top of the usual RPC time.
const ConnectTimeout = 5 * time.Second

func (n *bitcoindNode) ConnectOnce(ctx context.Context, address string) error {
	return n.do(ctx, n.timeout+ConnectTimeout, true, "addnode", nil, []any{address, string(btcjson.ANOneTry)})
}

// RemovePeer removes an added peer and closes every outbound connection to
// it: Core keeps the connection of a removed peer, and an address that was
// this network's may belong to another network's node by now.
func (n *bitcoindNode) RemovePeer(ctx context.Context, address string) error {
	if err := ignoreCode(n.common().addNode(ctx, address, btcjson.ANRemove), btcjson.ErrRPCClientNodeNotAdded); err != nil {
		return err
	}
	ids, err := n.common().outboundIDs(ctx, address)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := n.CloseConnection(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// CloseConnection uses disconnectnode "" <nodeid>: by id, not by the name
// the connection was opened under (only the first of a name would close).
func (n *bitcoindNode) CloseConnection(ctx context.Context, id int64) error {
	return ignoreCode(n.call(ctx, "disconnectnode", nil, "", id), btcjson.ErrRPCClientNodeNotConnected)
}

func (n *bitcoindNode) Banned(ctx context.Context) ([]string, error) {
	var bans []struct {
		Address string `json:"address"`
	}
	if err := n.call(ctx, "listbanned", &bans); err != nil {
		return nil, err
	}
	if len(bans) > maxPeers {
		return nil, fmt.Errorf("listbanned: %d bans, more than %d", len(bans), maxPeers)
	}
	out := make([]string, len(bans))
	for i, b := range bans {
		out[i] = b.Address
	}
	return out, nil
}

// Ban answers -23 for an address already banned, Unban -30 for one that
// is not: neither is an error here.
func (n *bitcoindNode) Ban(ctx context.Context, ip string) error {
	return ignoreCode(n.call(ctx, "setban", nil, ip, "add", BanTime), btcjson.ErrRPCClientNodeAlreadyAdded)
}

func (n *bitcoindNode) Unban(ctx context.Context, subnet string) error {
	return ignoreCode(n.call(ctx, "setban", nil, subnet, "remove"), btcjson.ErrRPCClientInvalidIPOrSubnet)
}

func (n *bitcoindNode) ChainTips(ctx context.Context) ([]ChainTip, error) {
	return n.common().ChainTips(ctx)
}

// BlockPlace reads getblockheader's confirmations: -1 for a block Core
// knows on another branch.
func (n *bitcoindNode) BlockPlace(ctx context.Context, hash string) (BlockPlace, error) {
	confirmations, known, err := n.common().headerConfirmations(ctx, hash)
	switch {
	case err != nil || !known:
		return BlockUnknown, err
	case confirmations < 0:
		return BlockOffBestChain, nil
	}
	return BlockOnBestChain, nil
}

func (n *bitcoindNode) Peers(ctx context.Context) ([]Peer, error) { return n.common().Peers(ctx) }
func (n *bitcoindNode) ChainInfo(ctx context.Context) (ChainInfo, error) {
	return n.common().ChainInfo(ctx)
}
func (n *bitcoindNode) BlockCount(ctx context.Context) (int64, error) {
	return n.common().BlockCount(ctx)
}
func (n *bitcoindNode) MempoolSize(ctx context.Context) (int64, error) {
	return n.common().MempoolSize(ctx)
}
func (n *bitcoindNode) BlockAt(ctx context.Context, height int64) (string, error) {
	return n.common().BlockAt(ctx, height)
}
func (n *bitcoindNode) BlockHash(ctx context.Context, height int64) (string, error) {
	return n.common().BlockHash(ctx, height)
}
func (n *bitcoindNode) BlockTemplate(ctx context.Context, rules []string, into any) error {
	return n.common().BlockTemplate(ctx, rules, into)
}
func (n *bitcoindNode) SubmitBlock(ctx context.Context, block string) error {
	return n.common().SubmitBlock(ctx, block)
}

func (n *bitcoindNode) Mine(ctx context.Context, count int, address string) ([]string, error) {
	var hashes []string
	return hashes, n.do(ctx, n.timeout+MineTimeout, false, "generatetoaddress", &hashes, []any{count, address})
}

func (n *bitcoindNode) NetworkInfo(ctx context.Context) (NetworkInfo, error) {
	var info NetworkInfo
	return info, n.call(ctx, "getnetworkinfo", &info)
}

// btcdNode speaks btcd's dialect: getaddednodeinfo needs its dns argument,
// getnetworkinfo is unimplemented (getinfo instead), and addnode reports
// duplicates and unknown peers as -8 with a message.
//
// Peers are connected with addnode onetry, not added as permanent peers:
// btcd lists a permanent peer only while it is connected, and "addnode add"
// of one it is still reconnecting (after the peer restarted) queues a
// second connection, so a node would end up with two connections to the
// same peer. The operator re-makes lost connections itself on every check.
type btcdNode struct{ *rpcClient }

func (n *btcdNode) common() common { return common{n.rpcClient} }

// AddedNodes lists btcd's permanent peers (all connected: btcd lists no
// other) and the outbound connections made with onetry.
func (n *btcdNode) AddedNodes(ctx context.Context) ([]AddedNode, error) {
	var results []btcjson.GetAddedNodeInfoResult
	if err := n.call(ctx, "getaddednodeinfo", &results, true); err != nil {
		return nil, err
	}
	added, err := addedNodes(results)
	if err != nil {
		return nil, err
	}
	peers, err := n.Peers(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		if !p.Inbound && !slices.ContainsFunc(added, func(a AddedNode) bool { return a.Address == p.Address }) {
			added = append(added, AddedNode{Address: p.Address, Connected: true})
		}
	}
	return added, nil
}

// AddPeer connects to the peer now; see btcdNode.
func (n *btcdNode) AddPeer(ctx context.Context, address string) error {
	return n.ConnectOnce(ctx, address)
}

func (n *btcdNode) ConnectOnce(ctx context.Context, address string) error {
	return ignoreMessage(n.common().addNode(ctx, address, btcjson.ANOneTry), "peer exists as a permanent peer")
}

// RemovePeer removes a permanent peer, and closes every outbound
// connection to the address by id (btcd's disconnect by address closes the
// first it finds).
func (n *btcdNode) RemovePeer(ctx context.Context, address string) error {
	err := ignoreMessage(n.common().addNode(ctx, address, btcjson.ANRemove), "peer not found")
	if err != nil {
		return err
	}
	ids, err := n.common().outboundIDs(ctx, address)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := n.CloseConnection(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// CloseConnection uses "node disconnect <id>".
func (n *btcdNode) CloseConnection(ctx context.Context, id int64) error {
	return ignoreMessage(n.call(ctx, "node", nil, "disconnect", strconv.FormatInt(id, 10)), "peer not found")
}

func (n *btcdNode) Banned(context.Context) ([]string, error) { return nil, ErrNoBanList }
func (n *btcdNode) Ban(context.Context, string) error        { return ErrNoBanList }
func (n *btcdNode) Unban(context.Context, string) error      { return ErrNoBanList }
func (n *btcdNode) ChainTips(ctx context.Context) ([]ChainTip, error) {
	return n.common().ChainTips(ctx)
}

// BlockPlace: btcd answers getblockheader for a block on another branch
// with an internal error (it finds no height on its best chain for it).
func (n *btcdNode) BlockPlace(ctx context.Context, hash string) (BlockPlace, error) {
	_, known, err := n.common().headerConfirmations(ctx, hash)
	var rpcErr *RPCError
	switch {
	case errors.As(err, &rpcErr) && rpcErr.Code == btcjson.ErrRPCInternal.Code && strings.Contains(rpcErr.Message, "not in the main chain"):
		return BlockOffBestChain, nil
	case err != nil || !known:
		return BlockUnknown, err
	}
	return BlockOnBestChain, nil
}

func (n *btcdNode) Peers(ctx context.Context) ([]Peer, error) { return n.common().Peers(ctx) }
func (n *btcdNode) ChainInfo(ctx context.Context) (ChainInfo, error) {
	return n.common().ChainInfo(ctx)
}
func (n *btcdNode) BlockCount(ctx context.Context) (int64, error) {
	return n.common().BlockCount(ctx)
}
func (n *btcdNode) MempoolSize(ctx context.Context) (int64, error) {
	return n.common().MempoolSize(ctx)
}
func (n *btcdNode) BlockAt(ctx context.Context, height int64) (string, error) {
	return n.common().BlockAt(ctx, height)
}
func (n *btcdNode) BlockHash(ctx context.Context, height int64) (string, error) {
	return n.common().BlockHash(ctx, height)
}
func (n *btcdNode) BlockTemplate(ctx context.Context, rules []string, into any) error {
	return n.common().BlockTemplate(ctx, rules, into)
}
func (n *btcdNode) SubmitBlock(ctx context.Context, block string) error {
	return n.common().SubmitBlock(ctx, block)
}

func (n *btcdNode) Mine(ctx context.Context, count int, _ string) ([]string, error) {
	var hashes []string
	return hashes, n.do(ctx, n.timeout+MineTimeout, false, "generate", &hashes, []any{count})
}

func (n *btcdNode) NetworkInfo(ctx context.Context) (NetworkInfo, error) {
	var info struct {
		Version     int `json:"version"`
		Connections int `json:"connections"`
	}
	if err := n.call(ctx, "getinfo", &info); err != nil {
		return NetworkInfo{}, err
	}
	// btcd's version is 1000000*major + 10000*minor + 100*patch.
	v := info.Version
	agent := fmt.Sprintf("/btcd:%d.%d.%d/", v/1000000, v/10000%100, v/100%100)
	return NetworkInfo{Version: info.Version, Subversion: agent, Connections: info.Connections}, nil
}

func ignoreCode(err error, code btcjson.RPCErrorCode) error {
	if c, ok := ErrorCode(err); ok && c == code {
		return nil
	}
	return err
}

// ignoreMessage absorbs btcd's -8 errors that mean "nothing to do".
func ignoreMessage(err error, message string) error {
	var rpcErr *RPCError
	if code, ok := ErrorCode(err); ok && code == btcjson.ErrRPCInvalidParameter && errors.As(err, &rpcErr) && strings.Contains(rpcErr.Message, message) {
		return nil
	}
	return err
}

// Call makes a raw JSON-RPC call through a Node made by New, for methods
// the Node interface leaves out (e.g. mining in a demo). result may be nil.
// Unlike the Node methods, the request is never sent twice.
func Call(ctx context.Context, node Node, method string, result any, params ...any) error {
	switch n := node.(type) {
	case *bitcoindNode:
		return n.do(ctx, n.timeout, false, method, result, params)
	case *btcdNode:
		return n.do(ctx, n.timeout, false, method, result, params)
	}
	return errors.New("bitcoin.Call: not a node made by bitcoin.New")
}
