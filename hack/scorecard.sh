#!/usr/bin/env bash
# Runs the scorecard tests against a bundle directory; see hack/scorecard.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./hack/scorecard "$@"
