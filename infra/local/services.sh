#!/usr/bin/env bash
# The local real-service harness: Valkey (standalone, cluster, TLS+ACL), DynamoDB Local, PostgreSQL,
# Kafka (KRaft), Kafka Connect with Debezium and ElasticMQ (SQS), as plain processes on 127.0.0.1 (no Docker).
# Used alike by developers, the vitest global setup (test/setup/services.ts) and .ci/run.
#
#   services.sh up [SERVICE...]      install what is missing, start what is not running (idempotent)
#   services.sh down [SERVICE...]    stop what this harness started (all by default)
#   services.sh status [--porcelain] [--check]  one line per service: up/down (and why the last
#                                    start failed); --check: exit 1 unless all are up
#   services.sh env [--plain]        the CDC_CACHE_* variables tests read (`eval "$(services.sh env)"`)
#   services.sh logs [SERVICE...]    the tail of each service's log (CI prints this on failure)
#   services.sh install [SERVICE...] install only
#
# SERVICE: valkey valkey-cluster valkey-tls dynamodb postgres kafka connect sqs, or `all` (the default).
# Versions: versions.env. Ports and local credentials: ports.env. Downloads are cached in
# ${CDC_CACHE_HOME:-~/.cache/cdc-cache}; logs, pids and data in $CDC_CACHE_HOME/run (CDC_CACHE_RUN_DIR).
# `up` prints one machine-readable line per service on stdout: "NAME started|reused|failed";
# everything else goes to stderr. Exit status: 0 when every requested service is up, 1 otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
for f in valkey dynamodb postgres kafka connect sqs; do
  # shellcheck disable=SC1090
  . "$HERE/lib/$f.sh"
done

# Start order; `down` stops in reverse.
ALL_SERVICES="valkey valkey-cluster valkey-tls dynamodb postgres kafka connect sqs"

fn() { echo "${1//-/_}"; } # service name -> function suffix

# Install units each service needs (apt units run one after another, maven units in parallel).
install_units() {
  case $1 in
    valkey | valkey-cluster | valkey-tls) echo apt-valkey ;;
    postgres) echo apt-postgres ;;
    dynamodb) echo mvn-dynamodb ;;
    kafka) echo mvn-kafka ;;
    connect) echo "mvn-kafka mvn-debezium" ;;
    sqs) echo mvn-sqs ;;
  esac
}

run_install_unit() {
  case $1 in
    apt-valkey) install_valkey ;;
    apt-postgres) install_postgres ;;
    mvn-dynamodb) install_dynamodb ;;
    mvn-kafka) install_kafka ;;
    mvn-sqs) install_sqs ;;
    mvn-debezium)
      ensure_java && maven_dist debezium-postgres debezium-postgres \
        "$CONNECT_PLUGINS/debezium-connector-postgres" \
        -Ddebezium.version="$DEBEZIUM_VERSION" -DexcludeArtifactIds=slf4j-api
      ;;
  esac
}

resolve_services() { # args -> ordered unique list on stdout, with dependencies
  local want=" $* " s out=""
  [ -z "${*// /}" ] || [[ $want == *" all "* ]] && want=" $ALL_SERVICES "
  [[ $want == *" connect "* ]] && want+=" kafka postgres "
  for s in $want; do
    [[ " $ALL_SERVICES " == *" $s "* ]] || { say "unknown service '$s' (known: $ALL_SERVICES)"; exit 2; }
  done
  for s in $ALL_SERVICES; do [[ $want == *" $s "* ]] && out+="$s "; done
  echo "$out"
}

# One harness command at a time on this machine (the ports are per machine, whatever the
# CDC_CACHE_HOME). A directory lock, not flock: every process the harness starts would inherit
# flock's descriptor and hold the lock for its whole life.
LOCK_DIR="${TMPDIR:-/tmp}/cdc-cache-services-$BIND_HOST-$VALKEY_PORT.lock"
take_lock() {
  local lock="$LOCK_DIR" holder deadline=$((SECONDS + 900))
  while ! mkdir "$lock" 2>/dev/null; do
    holder=$(cat "$lock/pid" 2>/dev/null)
    if [ -n "$holder" ] && ! running "$holder"; then
      rm -rf "$lock"
      continue
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "another services.sh (pid ${holder:-?}) held $lock for 15 min; giving up"
      exit 1
    fi
    sleep 0.5
  done
  echo $$ >"$lock/pid"
  trap 'rm -rf "$LOCK_DIR"' EXIT
}

# Runs the install units for SERVICES; prints the services whose install failed.
install_for() {
  local s u units="" apt_units="" mvn_units=""
  for s in "$@"; do units+=" $(install_units "$s")"; done
  for u in $(echo "$units" | tr ' ' '\n' | sort -u); do
    case $u in apt-*) apt_units+=" $u" ;; mvn-*) mvn_units+=" $u" ;; esac
  done
  local failed_units="" pids=() names=()
  for u in $mvn_units; do
    run_install_unit "$u" &
    pids+=($!) names+=("$u")
  done
  for u in $apt_units; do run_install_unit "$u" || failed_units+=" $u"; done
  local i
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed_units+=" ${names[$i]}"; done
  for s in "$@"; do
    for u in $(install_units "$s"); do
      if [[ " $failed_units " == *" $u "* ]]; then echo "$s $u"; break; fi
    done
  done
}

cmd_up() {
  local services
  services=$(resolve_services "$@") || exit 2
  take_lock
  local started=$SECONDS s to_start=""
  for s in $services; do
    if "is_up_$(fn "$s")"; then
      service_ok "$s"
      echo "$s reused"
    else
      to_start+=" $s"
    fi
  done
  # Connect holds replication slots and offsets for one Kafka and one Postgres; a fresh one of
  # either means a fresh Connect too.
  if [[ " $services " == *" connect "* && " $to_start " != *" connect "* ]] &&
    [[ " $to_start " == *" kafka "* || " $to_start " == *" postgres "* ]]; then
    say "restarting connect because kafka or postgres restarts"
    stop_connect
    to_start+=" connect"
  fi
  local failed="" line
  if [ -n "$to_start" ]; then
    say "starting:$to_start"
    while read -r s u; do
      [ -n "$s" ] || continue
      service_failed "$s" "install step $u failed (see $LOG_DIR/install-*.log)" "$LOG_DIR/install-apt.log" || true
      failed+=" $s"
    done < <(install_for $to_start)
  fi
  local launched="" reason
  for s in $to_start; do
    [ "$s" = connect ] && continue
    [[ " $failed " == *" $s "* ]] && continue
    rm -f "$STATE_DIR/$s.error"
    if "launch_$(fn "$s")"; then launched+=" $s"; else
      "stop_$(fn "$s")"
      reason="could not start $s"
      [ -s "$STATE_DIR/$s.error" ] && reason=$(head -n 1 "$STATE_DIR/$s.error")
      service_failed "$s" "$reason" "$(first_log "$s")" || true
      failed+=" $s"
    fi
  done
  for s in $launched; do
    if "ready_$(fn "$s")"; then service_ok "$s"; echo "$s started"; else
      service_failed "$s" "$s did not become ready" "$(first_log "$s")" || true
      [ "$s" = valkey-cluster ] && print_all_logs "$s"
      "stop_$(fn "$s")"
      failed+=" $s"
    fi
  done
  if [[ " $to_start " == *" connect "* && " $failed " != *" connect "* ]]; then
    if [[ " $failed " == *" kafka "* || " $failed " == *" postgres "* ]]; then
      service_failed connect "not started: kafka or postgres failed" || true
      failed+=" connect"
    elif launch_connect && ready_connect; then
      service_ok connect
      echo "connect started"
    else
      service_failed connect "Kafka Connect or its Debezium connectors did not start" || true
      curl -s -m 3 "http://$BIND_HOST:$CONNECT_PORT/connectors?expand=status" >&2 && echo >&2
      stop_connect
      failed+=" connect"
    fi
  fi
  for s in $failed; do echo "$s failed"; done
  say "up: $((SECONDS - started))s${failed:+; FAILED:$failed}"
  [ -z "$failed" ]
}

first_log() { # the log printed when a service fails
  if declare -F "log_$(fn "$1")" >/dev/null; then "log_$(fn "$1")" | head -n 1; else echo "$LOG_DIR/$1.log"; fi
}

print_all_logs() {
  local f
  if declare -F "log_$(fn "$1")" >/dev/null; then
    for f in $("log_$(fn "$1")"); do print_log_tail "$1" "$f"; done
  else
    print_log_tail "$1" "$LOG_DIR/$1.log"
  fi
}

cmd_down() {
  local services s list=""
  services=$(resolve_services "$@") || exit 2
  # Named services stop alone (no dependency expansion on the way down).
  [[ -n "${*// /}" && " $* " != *" all "* ]] && services="$*"
  take_lock
  for s in $services; do list="$s $list"; done
  for s in $list; do
    "stop_$(fn "$s")"
    echo "$s stopped"
  done
}

address_of() {
  case $1 in
    valkey) echo "valkey://$BIND_HOST:$VALKEY_PORT" ;;
    valkey-cluster) echo "$BIND_HOST:{${VALKEY_CLUSTER_PORTS// /,}}" ;;
    valkey-tls) echo "valkeys://$BIND_HOST:$VALKEY_TLS_PORT" ;;
    dynamodb) echo "http://$BIND_HOST:$DYNAMODB_PORT" ;;
    postgres) echo "postgres://$BIND_HOST:$POSTGRES_PORT/$POSTGRES_DB" ;;
    kafka) echo "$BIND_HOST:$KAFKA_PORT" ;;
    connect) echo "http://$BIND_HOST:$CONNECT_PORT" ;;
    sqs) echo "http://$BIND_HOST:$SQS_PORT" ;;
  esac
}

cmd_status() {
  local porcelain=0 check=0 s state reason all_up=0
  while [ $# -gt 0 ]; do
    case $1 in
      --porcelain) porcelain=1 ;;
      --check) check=1 ;;
      *) break ;;
    esac
    shift
  done
  local services
  services=$(resolve_services "$@") || exit 2
  for s in $services; do
    reason=""
    if "is_up_$(fn "$s")"; then state=up; else
      state=down all_up=1
      [ -f "$STATE_DIR/$s.error" ] && reason=$(head -n 1 "$STATE_DIR/$s.error")
    fi
    if [ "$porcelain" = 1 ]; then
      echo "$s $state${reason:+ $reason}"
    else
      printf '%-15s %-5s %-42s %s\n' "$s" "$state" "$(address_of "$s")" "${reason:+last start failed: $reason}"
    fi
  done
  [ "$check" = 0 ] || return "$all_up"
}

cmd_env() {
  local prefix="export "
  [ "${1:-}" = --plain ] && prefix=""
  local nodes="" p
  for p in $VALKEY_CLUSTER_PORTS; do nodes+="${nodes:+,}$BIND_HOST:$p"; done
  cat <<EOF
${prefix}CDC_CACHE_VALKEY_URL=valkey://$BIND_HOST:$VALKEY_PORT
${prefix}CDC_CACHE_VALKEY_CLUSTER_NODES=$nodes
${prefix}CDC_CACHE_VALKEY_TLS_URL=valkeys://$VALKEY_ACL_USER:$VALKEY_ACL_PASSWORD@$BIND_HOST:$VALKEY_TLS_PORT
${prefix}CDC_CACHE_VALKEY_TLS_CA=$TLS_DIR/ca.crt
${prefix}CDC_CACHE_VALKEY_TLS_USER=$VALKEY_ACL_USER
${prefix}CDC_CACHE_VALKEY_TLS_PASSWORD=$VALKEY_ACL_PASSWORD
${prefix}CDC_CACHE_DYNAMODB_ENDPOINT=http://$BIND_HOST:$DYNAMODB_PORT
${prefix}CDC_CACHE_PG_URL=postgres://$POSTGRES_USER:$POSTGRES_PASSWORD@$BIND_HOST:$POSTGRES_PORT/$POSTGRES_DB
${prefix}CDC_CACHE_KAFKA_BROKERS=$BIND_HOST:$KAFKA_PORT
${prefix}CDC_CACHE_CONNECT_URL=http://$BIND_HOST:$CONNECT_PORT
${prefix}CDC_CACHE_SQS_ENDPOINT=http://$BIND_HOST:$SQS_PORT
${prefix}CDC_CACHE_DEBEZIUM_SCHEMA_PREFIX=$DEBEZIUM_SCHEMA_PREFIX
${prefix}CDC_CACHE_DEBEZIUM_PLAIN_PREFIX=$DEBEZIUM_PLAIN_PREFIX
${prefix}CDC_CACHE_SERVICES_LOG_DIR=$LOG_DIR
EOF
}

cmd_logs() {
  local s
  for s in $(resolve_services "$@"); do print_all_logs "$s" 2>&1; done
}

cmd_install() {
  local failed
  failed=$(install_for $(resolve_services "$@"))
  [ -z "$failed" ] || { say "install failed: $failed"; return 1; }
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case $cmd in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  env) cmd_env "$@" ;;
  logs) cmd_logs "$@" ;;
  install) cmd_install "$@" ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    [ "$cmd" = help ] || exit 2
    ;;
esac
