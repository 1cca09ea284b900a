# kubectl-podnet. The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO        ?= go
BIN_DIR   := $(CURDIR)/bin
PLUGIN    := $(BIN_DIR)/kubectl-podnet
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE      ?= $(shell git log -1 --format=%cd --date=format:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X github.com/podnet/kubectl-podnet/internal/version.Version=$(VERSION) \
             -X github.com/podnet/kubectl-podnet/internal/version.Commit=$(COMMIT) \
             -X github.com/podnet/kubectl-podnet/internal/version.Date=$(DATE)
DEMO_CLUSTER ?= podnet-demo
SCENARIO  ?= aks-kubenet
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false

.PHONY: build
build: ## build bin/kubectl-podnet
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(PLUGIN) ./cmd/kubectl-podnet

.PHONY: image
image: ## the exporter's container image without Docker: bin/kubectl-podnet-image.tar (IMAGE, default ghcr.io/podnet/kubectl-podnet:VERSION, and podnet.local/kubectl-podnet:dev)
	@VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' hack/image.sh

.PHONY: deps
deps: ## install the Debian packages the scripts and tests use (only those missing)
	@hack/deps.sh

.PHONY: cluster-bins
cluster-bins: deps ## build (or find cached) etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok
	@hack/cluster build >/dev/null

.PHONY: cluster-up
cluster-up: cluster-bins ## start a local control plane with SCENARIO (default aks-kubenet)
	@hack/cluster up --name $(DEMO_CLUSTER) --scenario $(SCENARIO)

.PHONY: cluster-down
cluster-down: ## stop every local control plane this checkout started
	@hack/cluster down --all

.PHONY: demo
demo: build cluster-bins ## build the plugin, start a local control plane (SCENARIO, default aks-kubenet), run nodes, cidr-usage and a trace
	@hack/demo.sh $(DEMO_CLUSTER) $(SCENARIO)

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet:
	$(GO) vet ./...

.PHONY: tidy-check
tidy-check:
	$(GO) mod tidy -diff

.PHONY: unit
unit: ## unit and command tests, with the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

.PHONY: e2e
e2e: build cluster-bins ## end-to-end tests: the built binary against real local control planes
	PODNET_BIN=$(PLUGIN) $(GO) test -tags e2e -count=1 -timeout 30m ./test/e2e/...

.PHONY: dist
dist: ## release archives for every platform, sha256 sums and dist/podnet.yaml (RELEASE=vX.Y.Z)
	$(GO) run ./hack/dist --version $(RELEASE) --out dist

RELEASE ?= v0.1.0

.PHONY: release-manifest
release-manifest: dist ## render krew.yaml from the release archives (commit it with the release)
	cp dist/podnet.yaml krew.yaml

.PHONY: krew-test
krew-test: cluster-bins ## validate the krew manifest, install the plugin through krew offline, run it, uninstall
	@hack/krew-test.sh

.PHONY: test
test: deps fmt-check vet tidy-check unit e2e krew-test ## everything CI runs

.PHONY: bench
bench: build cluster-bins ## benchmark `nodes` against kubectl and a raw paged LIST on a synthetic cluster, then the exporter's sync, RSS and CPU under churn
	@hack/bench.sh
	@hack/bench-exporter.sh
	@hack/bench-fleet.sh

.PHONY: help
help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
