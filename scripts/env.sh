# shellcheck shell=bash
# Source me (bash): puts Loom's toolchain first on PATH. Quiet, installs nothing
# (scripts/bootstrap.sh does that). Safe to source more than once.
#   .tools/node/bin               Node 24 when the system node is older than 22.19
#   .tools/pnpm/node_modules/.bin the pinned pnpm
# When .tools/node exists, native addons (node-gyp) build against its headers.
_loom_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
_loom_prepend() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *) PATH="$1:$PATH" ;;
  esac
}
_loom_prepend "$_loom_root/.tools/pnpm/node_modules/.bin"
if [ -x "$_loom_root/.tools/node/bin/node" ]; then
  _loom_prepend "$_loom_root/.tools/node/bin"
  export npm_config_nodedir="$_loom_root/.tools/node"
elif command -v node >/dev/null 2>&1; then
  # A system node new enough: build native addons against its own headers when it ships them
  # (node-gyp would otherwise try to download them).
  _loom_prefix="$(cd "$(dirname "$(command -v node)")/.." && pwd -P)"
  if [ -f "$_loom_prefix/include/node/node_api.h" ]; then export npm_config_nodedir="$_loom_prefix"; fi
  unset _loom_prefix
fi
export PATH
# The Makefile runs every recipe line with BASH_ENV pointing here; do not leak that to child processes.
if [ "${BASH_ENV:-}" = "$_loom_root/scripts/env.sh" ]; then unset BASH_ENV; fi
unset -f _loom_prepend
unset _loom_root
