//go:build tools

// Package tools pins the OLM, opm and kwok commands this wrapper builds.
package tools

import (
	_ "github.com/operator-framework/operator-lifecycle-manager/cmd/catalog"
	_ "github.com/operator-framework/operator-lifecycle-manager/cmd/olm"
	_ "github.com/operator-framework/operator-registry/cmd/opm"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
