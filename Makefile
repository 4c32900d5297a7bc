# bitcoin-network-operator
#
# The two commands a newcomer needs:  make demo   and   make test
# Every tool is built from pinned Go modules by hack/tools.sh into a cache
# (~/.cache/bitcoin-network-operator) on first use.

# The operator's version: the bundle's CSV version and the image tags.
VERSION ?= 0.4.0
# The released version this one upgrades from (CSV spec.replaces); empty for the first release.
PREVIOUS_VERSION ?= 0.3.0
# The release date in the CSV's createdAt (operator-sdk would stamp the
# build time, which makes "make bundle" change the tree on every run).
CREATED_AT ?= 2026-12-07T00:00:00Z
IMAGE_REGISTRY ?= ghcr.io/bitcoin-network-operator
IMAGE_TAG_BASE ?= $(IMAGE_REGISTRY)/bitcoin-network-operator
IMG ?= $(IMAGE_TAG_BASE):v$(VERSION)
BUNDLE_IMG ?= $(IMAGE_TAG_BASE)-bundle:v$(VERSION)
CATALOG_IMG ?= $(IMAGE_TAG_BASE)-catalog:v$(VERSION)

# Node images the operator uses when a network (or group) does not set its
# image.
RELATED_IMAGE_BITCOIND ?= $(IMAGE_REGISTRY)/bitcoind:29.3
RELATED_IMAGE_BTCD ?= $(IMAGE_REGISTRY)/btcd:v0.25.0
RELATED_IMAGE_KNOTS ?= $(IMAGE_REGISTRY)/knots:29.3.knots20260210
# Further node images the release builds (a group names them in its image).
IMAGE_BITCOIND_30 ?= $(IMAGE_REGISTRY)/bitcoind:30.0

CONTAINER_TOOL ?= docker
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

TOOLS = hack/tools.sh
CONTROLLER_GEN = $(shell $(TOOLS) controller-gen)
KUSTOMIZE = $(shell $(TOOLS) kustomize)
OPERATOR_SDK = $(shell $(TOOLS) operator-sdk)/operator-sdk
SCORECARD_TEST = $(shell $(TOOLS) operator-sdk)/scorecard-test
OPM = $(shell $(TOOLS) opm)/opm

# operator-framework modules are missing from the Go checksum database.
export GONOSUMDB = github.com/operator-framework

# OLM package and channel.
PACKAGE = bitcoin-network-operator
CHANNELS = stable
DEFAULT_CHANNEL = stable
BUNDLE_METADATA_OPTS ?= --channels=$(CHANNELS) --default-channel=$(DEFAULT_CHANNEL) --package=$(PACKAGE)

# `go test` flags for the test tiers; CI may add -v. The e2e tag adds the
# OLM end-to-end tests on a local cluster.
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets and what they do.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests from the Go markers, and the list of served metrics.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases
	go run ./hack/metricnames > config/prometheus/metrics.txt

.PHONY: generate
generate: ## Generate DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet -tags e2e ./...

# In CI a skipped test fails the run (hack/testreport -no-skips): every
# tier must run there.
TEST_REPORT_FLAGS ?= $(if $(filter true,$(CI)),-no-skips)

.PHONY: test
test: manifests generate fmt vet tools ## Run every test tier: unit, envtest, real btcd and Bitcoin Core nodes, bundle/catalog, OLM e2e, fuzzing.
	go build -o bin/testreport ./hack/testreport
	KUBEBUILDER_ASSETS="$$($(TOOLS) envtest)" go test $(GO_TEST_FLAGS) -json -tags e2e ./... | bin/testreport $(TEST_REPORT_FLAGS)
	cd test/prometheus && go vet ./... && go test $(GO_TEST_FLAGS) -json ./... | ../../bin/testreport $(TEST_REPORT_FLAGS)
	$(MAKE) --no-print-directory fuzz

# Fuzz targets and the budget each gets in "make fuzz" (and so in "make
# test"): a count of executions (about 10 s here), not a duration: with a
# duration, Go 1.26's fuzz coordinator can report "context deadline
# exceeded" as a failure when the time runs out under load (golang/go#75804,
# fixed in Go 1.27; seen in this project's CI).
FUZZ_TARGETS = FuzzDecodeResponse:./internal/bitcoin FuzzNodeConfig:./internal/resources
FUZZTIME ?= 100000x

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 100000x executions): node answers, rendered node configuration.
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzzing $${t%%:*} in $${t##*:} for $(FUZZTIME)"; \
	  go test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) "$${t##*:}" || exit 1; \
	done

.PHONY: e2e
e2e: tools ## Run only the OLM end-to-end tests on a local cluster, with their step log.
	go test $(GO_TEST_FLAGS) -tags e2e -v -run . ./test/e2e/

.PHONY: tools
tools: ## Build every tool the tests use (cached; seconds when warm).
	@$(TOOLS) controller-gen kustomize actionlint envtest kube-components btcd operator-sdk opm olm olm-assets >/dev/null

.PHONY: test-unit
test-unit: ## Run only the tests that need no API server (seconds).
	go test $(GO_TEST_FLAGS) ./internal/... ./test/images/...

.PHONY: verify
verify: manifests generate ## Fail if generated code or manifests are not committed.
	@git diff --exit-code -- api config || { echo "generated files are stale: run 'make generate manifests' and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- api config)" || { git status --porcelain -- api config; echo "untracked generated files: commit them" >&2; exit 1; }

.PHONY: demo
demo: ## Run the demo: local control plane, the operator and a real 4-node network (ONCE=1: print and exit; IMPL=bitcoind: real Bitcoin Core; MIXED=1: Core 29.3 and 30.0, Knots and btcd in one network; CHAIN=signet: a private signet the operator signs and mines).
	go run ./hack/demo $(if $(ONCE),--once) $(if $(IMPL),--impl=$(IMPL)) $(if $(MIXED),--mixed) $(if $(CHAIN),--chain=$(CHAIN))

.PHONY: bench
bench: ## Benchmark peer wiring (this operator's strategy against the seed's), scale and heal-to-one-tip on real nodes; writes bench/report.json.
	go test -run '^$$' -bench PeerWiring -benchtime 3x ./test/bench/
	mkdir -p bench
	BNO_BENCH_REPORT=$(CURDIR)/bench/report.json go test -run '^$$' -bench Scale -benchtime 1x -timeout 60m ./test/bench/

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary into bin/.
	go build -o bin/manager ./cmd

.PHONY: run
run: manifests generate fmt vet ## Run the operator against the cluster in ~/.kube/config.
	RELATED_IMAGE_BITCOIND=$(RELATED_IMAGE_BITCOIND) RELATED_IMAGE_BTCD=$(RELATED_IMAGE_BTCD) RELATED_IMAGE_KNOTS=$(RELATED_IMAGE_KNOTS) go run ./cmd

.PHONY: docker-build
docker-build: ## Build the operator image (needs a container engine).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the operator image.
	$(CONTAINER_TOOL) push $(IMG)

.PHONY: node-images
node-images: ## Build the node images: Bitcoin Core 29.3 and 30.0, Knots, btcd (needs a container engine).
	$(CONTAINER_TOOL) build -t $(RELATED_IMAGE_BITCOIND) images/bitcoind
	$(CONTAINER_TOOL) build -t $(IMAGE_BITCOIND_30) images/bitcoind-30.0
	$(CONTAINER_TOOL) build -t $(RELATED_IMAGE_KNOTS) images/knots
	$(CONTAINER_TOOL) build -t $(RELATED_IMAGE_BTCD) images/btcd

.PHONY: node-images-push
node-images-push: ## Push the node images.
	for image in $(RELATED_IMAGE_BITCOIND) $(IMAGE_BITCOIND_30) $(RELATED_IMAGE_KNOTS) $(RELATED_IMAGE_BTCD); do $(CONTAINER_TOOL) push $$image; done

##@ Bundle and catalog

.PHONY: bundle
bundle: manifests ## Generate the OLM bundle (bundle/, bundle.Dockerfile) for VERSION, then validate it.
	$(OPERATOR_SDK) generate kustomize manifests -q --package $(PACKAGE)
	hack/csv-release.sh config/manifests/bases/$(PACKAGE).clusterserviceversion.yaml "$(VERSION)" "$(PREVIOUS_VERSION)" "$(IMG)"
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/manifests | $(OPERATOR_SDK) generate bundle -q --overwrite --version $(VERSION) $(BUNDLE_METADATA_OPTS)
	go run ./hack/csvscope bundle/manifests/$(PACKAGE).clusterserviceversion.yaml
	sed -i 's/^    createdAt: .*/    createdAt: "$(CREATED_AT)"/' bundle/manifests/$(PACKAGE).clusterserviceversion.yaml
	$(OPERATOR_SDK) bundle validate ./bundle --select-optional suite=operatorframework

# Where make bundle-community writes the community-operators layout.
COMMUNITY_DIR ?= bin/community

.PHONY: bundle-community
bundle-community: ## Copy bundle/ into the community-operators layout (COMMUNITY_DIR/PACKAGE/VERSION, ci.yaml) and validate it there.
	rm -rf $(COMMUNITY_DIR)/$(PACKAGE)/$(VERSION)
	mkdir -p $(COMMUNITY_DIR)/$(PACKAGE)/$(VERSION)
	cp -R bundle/manifests bundle/metadata bundle/tests $(COMMUNITY_DIR)/$(PACKAGE)/$(VERSION)/
	printf '%s\n' '# community-operators: each version names the one it replaces (spec.replaces).' 'updateGraph: replaces-mode' > $(COMMUNITY_DIR)/$(PACKAGE)/ci.yaml
	$(OPERATOR_SDK) bundle validate $(COMMUNITY_DIR)/$(PACKAGE)/$(VERSION) --select-optional suite=operatorframework

.PHONY: bundle-build
bundle-build: ## Build the bundle image BUNDLE_IMG (needs a container engine).
	$(CONTAINER_TOOL) build -f bundle.Dockerfile -t $(BUNDLE_IMG) .

.PHONY: bundle-push
bundle-push: ## Push the bundle image.
	$(CONTAINER_TOOL) push $(BUNDLE_IMG)

.PHONY: scorecard
scorecard: ## Run the six scorecard tests against bundle/ and print their results.
	hack/scorecard.sh "$(SCORECARD_TEST)" bundle

.PHONY: catalog
catalog: ## Render bundle/ into the file-based catalog as VERSION, write catalog.Dockerfile, validate.
	$(OPM) render ./bundle --output yaml > catalog/$(PACKAGE)/bundle-v$(VERSION).yaml
	rm -f catalog.Dockerfile
	$(OPM) generate dockerfile catalog --base-image quay.io/operator-framework/opm:v1.59.0 --builder-image quay.io/operator-framework/opm:v1.59.0
	$(OPM) validate catalog

.PHONY: catalog-build
catalog-build: ## Build the catalog image CATALOG_IMG from catalog/ (needs a container engine).
	$(CONTAINER_TOOL) build -f catalog.Dockerfile -t $(CATALOG_IMG) .

.PHONY: catalog-push
catalog-push: ## Push the catalog image.
	$(CONTAINER_TOOL) push $(CATALOG_IMG)

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests ## Install the CRD into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests ## Remove the CRD (and every BitcoinNetwork) from the cluster.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found=$(ignore-not-found) -f -

# make deploy renders config/default through an overlay in bin/deploy that
# sets IMG and the RELATED_IMAGE_* node images; no tracked file changes.
DEPLOY_OVERLAY = bin/deploy

.PHONY: deploy-overlay
deploy-overlay:
	@hack/deploy-overlay.sh $(DEPLOY_OVERLAY) "$(IMG)" "$(RELATED_IMAGE_BITCOIND)" "$(RELATED_IMAGE_BTCD)" "$(RELATED_IMAGE_KNOTS)"

.PHONY: deploy-manifests
deploy-manifests: deploy-overlay ## Print what make deploy applies (IMG, RELATED_IMAGE_BITCOIND, _BTCD, _KNOTS honoured).
	@$(KUSTOMIZE) build $(DEPLOY_OVERLAY)

.PHONY: deploy
deploy: manifests deploy-overlay ## Deploy the operator with image IMG and the RELATED_IMAGE_* node images to the cluster.
	$(KUSTOMIZE) build $(DEPLOY_OVERLAY) | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: deploy-overlay ## Remove the operator from the cluster.
	$(KUSTOMIZE) build $(DEPLOY_OVERLAY) | kubectl delete --ignore-not-found=$(ignore-not-found) -f -
