#!/usr/bin/env bash
# Measures what installing the package costs: the tarball, the core install (cdc-cache alone) and
# each feature's extra libraries, in fresh projects installed from the local npm cache at the
# repository's versions. Sizes are apparent bytes of node_modules (du -sb) and blocks (du -sk).
#   bash infra/build/measure-install.sh [TARBALL]   (default: npm pack into a temp dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(bash infra/local/ensure-node.sh)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${1:-}
if [ -z "$tarball" ]; then
  npm pack --pack-destination "$work" --loglevel=error >/dev/null
  tarball=$(ls "$work"/cdc-cache-*.tgz)
fi
echo "tarball: $(basename "$tarball") $(stat -c %s "$tarball") bytes, $(tar -tzf "$tarball" | wc -l) files"
version() { node -p "require('./node_modules/$1/package.json').version"; }
measure() { # NAME PACKAGES...
  local name=$1; shift
  local dir="$work/$name"
  mkdir -p "$dir" && echo '{"name":"m","private":true,"type":"module"}' >"$dir/package.json"
  local specs=()
  for p in "$@"; do specs+=("$p@$(version "$p")"); done
  (cd "$dir" && npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" "${specs[@]}" >/dev/null)
  local bytes kb count
  bytes=$(du -sb "$dir/node_modules" | cut -f1)
  kb=$(du -sk "$dir/node_modules" | cut -f1)
  count=$(cd "$dir" && npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l)
  printf '%-34s %8.2f MB (%6.1f MB in blocks) %4d packages\n' "$name" "$(echo "$bytes/1000000" | bc -l)" "$(echo "$kb/1024" | bc -l)" "$count"
  if [ "$name" = core ]; then # what takes the space: each package, and the package's own folders
    # Files alone, as test/e2e/package measures the 5 MB budget (du -sb also counts directories).
    printf '  %-40s %8.2f MB\n' "files only (the budget's measure)" \
      "$(find "$dir/node_modules" -type f -printf '%s\n' | awk '{ s += $1 } END { print s / 1000000 }')"
    (cd "$dir/node_modules" && { du -sb cdc-cache/* $(ls -d * @*/* | grep -v '^@[^/]*$' | grep -v '^cdc-cache$'); du -sb cdc-cache/dist/*; } |
      sort -rn | awk '{ printf "  %-40s %8.1f KB\n", $2, $1 / 1000 }')
  fi
}
measure core
measure kafka kafkajs
measure kafka-platformatic @platformatic/kafka
measure dead-letters-sqs @aws-sdk/client-sqs
measure dynamodb-streams @aws-sdk/client-dynamodb-streams
measure verify-pg pg
measure verify-dynamodb @aws-sdk/client-dynamodb
measure lambda-local @aws-sdk/client-lambda
measure consume-logs-metrics pino prom-client
measure lambda-handlers @aws-lambda-powertools/logger
measure cdk aws-cdk-lib constructs
measure engine-scripts wasmoon
