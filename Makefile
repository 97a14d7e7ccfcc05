# Loom: build, lint, test and bench entry points. Works from a fresh clone.
#
# Every recipe line runs in bash with scripts/env.sh sourced first (via BASH_ENV), so the toolchain
# that scripts/bootstrap.sh provides (.tools/node when the system node is too old, pinned pnpm)
# comes first on PATH, and native addons build against that node's headers.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export BASH_ENV := $(CURDIR)/scripts/env.sh
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := build

PACKAGES := shared ca proxy controller dev e2e bench
BIN := node_modules/.bin

# Every `bench-<name>:` rule in this file; `make bench` runs them all in order.
BENCH_TARGETS := $(shell sed -n 's/^\(bench-[a-z0-9-]*\):.*/\1/p' $(firstword $(MAKEFILE_LIST)))

.PHONY: build bootstrap install lint test check-generated crds bench $(BENCH_TARGETS) demo clean distclean

## Toolchain: Node >= 22.19 and pnpm 10.34.8 (quiet when already there).
bootstrap:
	@scripts/bootstrap.sh

## Dependencies: installed only when node_modules is missing or older than the lockfile/manifests.
install: node_modules/.modules.yaml

node_modules/.modules.yaml: pnpm-lock.yaml pnpm-workspace.yaml package.json $(PACKAGES:%=%/package.json) | bootstrap
	@echo "pnpm install --frozen-lockfile"
	@pnpm install --frozen-lockfile
	@touch $@

## Compile every package (incremental; tsc -b also typechecks tests).
build: install
	@$(BIN)/tsc -b

## Lint with type information (needs the build's .d.ts for cross-package imports).
lint: build
	@$(BIN)/eslint

## Regenerate shared/src/gen/ from shared/proto/ (commit the result).
proto: install
	@node scripts/gen-proto.mjs

## Regenerate deploy/crds/ from shared/src/smi (commit the result).
crds: build
	@node scripts/gen-crds.mjs

## Generated code and manifests are up to date: regenerates them and fails on any difference.
check-generated: build
	@node scripts/gen-proto.mjs --check
	@node scripts/gen-crds.mjs --check

## Everything CI runs; the last line is "N passed, N failed[, N skipped]".
test: build lint check-generated
	@node scripts/test-summary.mjs

## Benchmarks (DESIGN.md section 8). Each writes bench/results/<name>.json.
bench: $(BENCH_TARGETS)

# Benchmarks that measure one core's work run pinned to CPU 0 when taskset (util-linux) exists.
PIN := $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)

## Policy compiler on a generated 10k-service / 50k-pod mesh (and 1k); bench/README.md explains the figures.
bench-compile: build
	@$(PIN) node --max-old-space-size=8192 --expose-gc bench/dist/src/compile/main.js

## CA: certificates issued/s (in-process, over gRPC) and full mTLS handshakes/s, P-256 vs RSA-2048 vs other X.509 libraries.
bench-ca: build
	@node --expose-gc bench/dist/src/ca/main.js

## Proxy data path in two network namespaces (needs root): direct vs an HAProxy pair (HTTP/1.1 and HTTP/2 between the
## proxies) vs the Loom pair; the harness pins the proxies and the load generators itself (bench/README.md).
bench-proxy: build
	@node bench/dist/src/proxy/main.js

## The local cluster (needs root on Linux) with examples/demo; prints what to try. `bin/loom dev down` stops it.
demo: build
	@bin/loom dev up -f examples/demo
	@echo
	@echo "The local cluster runs examples/demo (no mesh yet: the controller issue adds sidecars, policy and mTLS). Try:"
	@echo "  export KUBECONFIG=$$(bin/loom dev status | sed -n 's/^  kubeconfig   export KUBECONFIG=//p')"
	@echo "  kubectl get pods -n demo -o wide          # pods are processes in network namespaces"
	@echo "  kubectl logs -n demo client -f            # client -> web -> orders, through ClusterIPs"
	@echo "  kubectl delete pod -n demo -l app=orders  # the ReplicaSet makes new ones; the Service follows"
	@echo "  bin/loom dev status                       # pods, IPs and their log files"
	@echo "  bin/loom dev down                         # removes everything the cluster made"

## Remove build outputs (keeps node_modules and .tools).
clean:
	@rm -rf $(PACKAGES:%=%/dist) .tap coverage bench/results

## Also remove installed dependencies and the bootstrapped toolchain.
distclean: clean
	@rm -rf node_modules $(PACKAGES:%=%/node_modules) .tools
