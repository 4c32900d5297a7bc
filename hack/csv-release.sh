#!/usr/bin/env bash
# Sets the base CSV's release fields; see hack/csvrelease.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./hack/csvrelease "$@"
