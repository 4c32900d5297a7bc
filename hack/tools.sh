#!/usr/bin/env bash
# Builds the project's toolchain from pinned Go modules into a cache that
# outlives the checkout, and prints where each tool is.
#
#   hack/tools.sh controller-gen kustomize   # build (if needed), print paths
#   hack/tools.sh envtest                    # etcd + kube-apiserver, prints the
#                                            # directory for KUBEBUILDER_ASSETS
#
# Nothing is downloaded except Go modules through the module proxy. A tool is
# rebuilt only when its version (or wrapper module) changes, so a warm run
# takes well under a second per tool.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${BNO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bitcoin-network-operator/tools}"

# Pinned versions: see ../shared/design/toolchain.md for why these.
CONTROLLER_TOOLS_VERSION=v0.23.0
KUSTOMIZE_VERSION=v5.8.2 # v5.8.3 needs Go 1.27
ETCD_VERSION=v3.6.16
KUBERNETES_VERSION=v1.37.2
BTCD_VERSION=v0.25.0
OPERATOR_SDK_VERSION=v1.42.3
ACTIONLINT_VERSION=v1.7.12

log() { echo "hack/tools.sh: $*" >&2; }

# wrapper_key prints a short hash of a wrapper module's go.mod and go.sum, so
# that editing a wrapper rebuilds what it builds.
wrapper_key() {
  cat "$HACK_DIR/tools/$1/go.mod" "$HACK_DIR/tools/$1/go.sum" | sha256sum | cut -c1-12
}

# go_install_pinned NAME PKG VERSION: `go install PKG@VERSION` into the cache.
go_install_pinned() {
  local name=$1 pkg=$2 version=$3
  local dir="$CACHE_DIR/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    log "building $name $version (first run only)"
    mkdir -p "$dir.tmp"
    GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "$pkg@$version"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/$name"
}

# build_from_wrapper NAME OUTDIR PKG [LDFLAGS [TAGS]]: build PKG with the
# wrapper module hack/tools/NAME, whose go.mod pins the versions and
# replaces. operator-framework modules are missing from the checksum
# database, hence GONOSUMDB for that prefix only; containers_image_openpgp
# avoids cgo gpgme in the image libraries they import.
build_from_wrapper() {
  local wrapper=$1 out=$2 pkg=$3 ldflags=${4:-} tags=${5:-}
  local bin
  bin="$(basename "$pkg")"
  [[ "$bin" == v3 ]] && bin=etcd
  if [[ ! -x "$out/$bin" ]]; then
    log "building $bin from hack/tools/$wrapper (first run only)"
    mkdir -p "$out"
    (cd "$HACK_DIR/tools/$wrapper" && GONOSUMDB=github.com/operator-framework GOFLAGS=-mod=mod \
      go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/$bin.tmp" "$pkg")
    mv "$out/$bin.tmp" "$out/$bin"
  fi
}

controller_gen() { go_install_pinned controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen "$CONTROLLER_TOOLS_VERSION"; }
kustomize() { go_install_pinned kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"; }
actionlint() { go_install_pinned actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"; }

# envtest builds etcd and kube-apiserver side by side: that directory is what
# controller-runtime's envtest expects in KUBEBUILDER_ASSETS.
envtest() {
  local dir="$CACHE_DIR/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-$(wrapper_key kubernetes)-$(wrapper_key etcd)"
  build_from_wrapper etcd "$dir" go.etcd.io/etcd/server/v3
  local minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  # Without the version stamp the binaries report v0.0.0-master, which
  # breaks client version checks.
  local stamp="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  build_from_wrapper kubernetes "$dir" k8s.io/kubernetes/cmd/kube-apiserver "$stamp"
  echo "$dir"
}

# kube_components adds the controller-manager and scheduler (local cluster).
kube_components() {
  local dir
  dir="$(envtest)"
  local minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  local stamp="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  build_from_wrapper kubernetes "$dir" k8s.io/kubernetes/cmd/kube-controller-manager "$stamp"
  build_from_wrapper kubernetes "$dir" k8s.io/kubernetes/cmd/kube-scheduler "$stamp"
  echo "$dir"
}

btcd() {
  local dir="$CACHE_DIR/btcd-$BTCD_VERSION-$(wrapper_key btcd)"
  build_from_wrapper btcd "$dir" github.com/btcsuite/btcd
  build_from_wrapper btcd "$dir" github.com/btcsuite/btcd/cmd/btcctl
  echo "$dir"
}

# operator_sdk builds the CLI (make bundle) and scorecard-test (make
# scorecard); prints their directory.
operator_sdk() {
  local v=github.com/operator-framework/operator-sdk/internal/version
  # Without the version stamp the CLI reports "unknown", which would land
  # in the bundle's builder annotation.
  local stamp="-X $v.Version=$OPERATOR_SDK_VERSION -X $v.GitVersion=$OPERATOR_SDK_VERSION -X $v.ImageVersion=$OPERATOR_SDK_VERSION -X $v.KubernetesVersion=v1.33.1"
  local dir="$CACHE_DIR/operator-sdk-$OPERATOR_SDK_VERSION-$(wrapper_key operator-sdk)-$(echo "$stamp" | sha256sum | cut -c1-8)"
  build_from_wrapper operator-sdk "$dir" github.com/operator-framework/operator-sdk/cmd/operator-sdk "$stamp" containers_image_openpgp
  build_from_wrapper operator-sdk "$dir" github.com/operator-framework/operator-sdk/images/scorecard-test "" containers_image_openpgp
  echo "$dir"
}

# opm builds operator-registry's opm (file-based catalogs); prints its
# directory.
opm() {
  local dir="$CACHE_DIR/olm-$(wrapper_key olm)"
  build_from_wrapper olm "$dir" github.com/operator-framework/operator-registry/cmd/opm "" containers_image_openpgp,json1
  echo "$dir"
}

# olm builds OLM's olm and catalog operators, opm and kwok; prints their
# directory.
olm() {
  local dir="$CACHE_DIR/olm-$(wrapper_key olm)"
  local tags=containers_image_openpgp,json1
  opm >/dev/null
  build_from_wrapper olm "$dir" github.com/operator-framework/operator-lifecycle-manager/cmd/olm "" "$tags"
  build_from_wrapper olm "$dir" github.com/operator-framework/operator-lifecycle-manager/cmd/catalog "" "$tags"
  build_from_wrapper olm "$dir" sigs.k8s.io/kwok/cmd/kwok "" "$tags"
  echo "$dir"
}

# olm_assets collects, from the modules the olm wrapper pins, the files a
# local cluster needs: kwok's fast node and pod stages, OLM's CRDs and the
# OLMConfig CRD the quickstart lacks. Prints their directory.
olm_assets() {
  local dir="$CACHE_DIR/olm-assets-$(wrapper_key olm)"
  if [[ ! -f "$dir/done" ]]; then
    mkdir -p "$dir"
    local kwok olmmod api
    kwok=$(cd "$HACK_DIR/tools/olm" && GONOSUMDB=github.com/operator-framework GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
    olmmod=$(cd "$HACK_DIR/tools/olm" && GONOSUMDB=github.com/operator-framework GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/operator-framework/operator-lifecycle-manager)
    api=$(cd "$HACK_DIR/tools/olm" && GONOSUMDB=github.com/operator-framework GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/operator-framework/api)
    local first=1
    : > "$dir/stages.yaml"
    for f in "$kwok"/kustomize/stage/node/fast/node-*.yaml "$kwok"/kustomize/stage/pod/fast/pod-*.yaml; do
      [[ $first == 1 ]] || echo "---" >> "$dir/stages.yaml"
      cat "$f" >> "$dir/stages.yaml"
      first=0
    done
    cp "$olmmod/deploy/upstream/quickstart/crds.yaml" "$dir/olm-crds.yaml"
    cp "$api/crds/operators.coreos.com_olmconfigs.yaml" "$dir/olmconfigs-crd.yaml"
    chmod -R u+w "$dir"
    touch "$dir/done"
  fi
  echo "$dir"
}

# operator_release builds the operator as it was released: the manager
# binary from the git commit a release was made from (the OLM end-to-end
# test runs each release's own operator). Prints the binary's path.
operator_release() {
  local commit=$1
  local root dir
  root="$(cd "$HACK_DIR/.." && pwd)"
  commit=$(git -C "$root" rev-parse --verify "$commit^{commit}")
  dir="$CACHE_DIR/operator-$commit"
  if [[ ! -x "$dir/manager" ]]; then
    log "building the operator released from ${commit:0:12} (first run only)"
    rm -rf "$dir.src" && mkdir -p "$dir.src" "$dir"
    git -C "$root" archive "$commit" | tar -x -C "$dir.src"
    (cd "$dir.src" && GOFLAGS=-mod=mod go build -trimpath -o "$dir/manager.tmp" ./cmd)
    mv "$dir/manager.tmp" "$dir/manager"
    rm -rf "$dir.src"
  fi
  echo "$dir/manager"
}

if [[ $# -eq 0 ]]; then
  echo "usage: $0 controller-gen|kustomize|actionlint|envtest|kube-components|btcd|operator-sdk|opm|olm|olm-assets ..." >&2
  exit 2
fi
for tool in "$@"; do
  case "$tool" in
    controller-gen) controller_gen ;;
    kustomize) kustomize ;;
    actionlint) actionlint ;;
    envtest) envtest ;;
    kube-components) kube_components ;;
    btcd) btcd ;;
    operator-sdk) operator_sdk ;;
    opm) opm ;;
    olm) olm ;;
    olm-assets) olm_assets ;;
    operator@*) operator_release "${tool#operator@}" ;;
    *) echo "unknown tool: $tool" >&2; exit 2 ;;
  esac
done
