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

package resources

import (
	"strconv"

	"github.com/bitcoin-network-operator/bitcoin-network-operator/api/v1alpha1"
)

// Ports are the node's listening ports. The operator always sets them
// explicitly, so both implementations listen where the Service says.
type Ports struct {
	RPC int32
	P2P int32
}

// PortsFor returns the well-known ports of an implementation on a chain.
// btcd keeps its own RPC defaults (18334 on regtest and testnet3, 48334 on
// testnet4); bitcoind's are Bitcoin Core's.
func PortsFor(impl v1alpha1.Implementation, chain v1alpha1.Chain) Ports {
	if impl == v1alpha1.ImplementationBtcd {
		switch chain {
		case v1alpha1.ChainSignet:
			return Ports{RPC: 38332, P2P: 38333}
		case v1alpha1.ChainTestnet3:
			return Ports{RPC: 18334, P2P: 18333}
		case v1alpha1.ChainTestnet4:
			return Ports{RPC: 48334, P2P: 48333}
		default:
			return Ports{RPC: 18334, P2P: 18444}
		}
	}
	switch chain {
	case v1alpha1.ChainSignet:
		return Ports{RPC: 38332, P2P: 38333}
	case v1alpha1.ChainTestnet3:
		return Ports{RPC: 18332, P2P: 18333}
	case v1alpha1.ChainTestnet4:
		return Ports{RPC: 48332, P2P: 48333}
	default:
		return Ports{RPC: 18443, P2P: 18444}
	}
}

// bitcoindChainOption is the bitcoin.conf option that selects the chain, and
// bitcoindSection the section whose options apply on it (Bitcoin Core
// ignores port, bind, rpcport, rpcbind, addnode and connect outside it on
// test chains).
func bitcoindChainOption(chain v1alpha1.Chain) (option, section string) {
	switch chain {
	case v1alpha1.ChainSignet:
		return "signet", "signet"
	case v1alpha1.ChainTestnet3:
		return "testnet", "test"
	case v1alpha1.ChainTestnet4:
		return "testnet4", "testnet4"
	default:
		return "regtest", "regtest"
	}
}

// btcdChainOption is the btcd option that selects the chain.
func btcdChainOption(chain v1alpha1.Chain) string {
	switch chain {
	case v1alpha1.ChainSignet:
		return "signet"
	case v1alpha1.ChainTestnet3:
		return "testnet"
	case v1alpha1.ChainTestnet4:
		return "testnet4"
	default:
		return "regtest"
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
