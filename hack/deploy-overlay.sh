#!/usr/bin/env bash
# Writes a kustomize overlay of config/default into DIR that runs the
# operator image IMG and gives it the node images, without editing the
# tracked kustomizations: make deploy and make deploy-manifests build it.
#
#   hack/deploy-overlay.sh DIR IMG BITCOIND_IMAGE BTCD_IMAGE KNOTS_IMAGE
set -euo pipefail
dir=$1 img=$2 bitcoind=$3 btcd=$4 knots=$5
for v in "$img" "$bitcoind" "$btcd" "$knots"; do
  # An image reference is one word; anything else would break the YAML.
  [[ "$v" =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || { echo "deploy-overlay: not an image reference: '$v'" >&2; exit 1; }
done
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
rel=$(realpath --relative-to="$dir" "$root/config/default")
cat > "$dir/kustomization.yaml" <<YAML
# Written by hack/deploy-overlay.sh; make deploy applies it.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- $rel
patches:
- path: images.yaml
YAML
cat > "$dir/images.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bitcoin-network-operator-controller-manager
  namespace: bitcoin-network-operator-system
spec:
  template:
    spec:
      containers:
      - name: manager
        image: $img
        env:
        - name: RELATED_IMAGE_OPERATOR
          value: $img
        - name: RELATED_IMAGE_BITCOIND
          value: $bitcoind
        - name: RELATED_IMAGE_BTCD
          value: $btcd
        - name: RELATED_IMAGE_KNOTS
          value: $knots
YAML
