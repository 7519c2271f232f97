#!/usr/bin/env bash
# Runs node with the given arguments on a Node that satisfies package.json "engines", provisioning
# Node 24 first (ensure-node.sh) when the one on PATH is older. The npm scripts go through it, so
# `npm install && npm start` and `npm test` work as the first commands on a fresh machine whatever
# its system Node. Child processes (vitest workers, spawned CLIs) inherit the same PATH.
#   bash infra/local/node.sh FILE [ARGS...]
set -euo pipefail
eval "$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh")"
exec node "$@"
