# Shared helpers of the local real-service harness (sourced by services.sh).
# Invariants: every wait is bounded; a pidfile is only trusted when /proc/PID/cmdline still carries
# the marker the harness started the process with (so a recycled PID is never signalled); nothing
# the harness did not start is ever stopped.

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
. "$HARNESS_DIR/versions.env"
# shellcheck source=../ports.env
. "$HARNESS_DIR/ports.env"

# CDC_CACHE_PORT_OFFSET shifts every port, so a second checkout (or a throw-away CDC_CACHE_HOME)
# can run its own services beside the usual ones.
if [ "${CDC_CACHE_PORT_OFFSET:-0}" != 0 ]; then
  _off=$CDC_CACHE_PORT_OFFSET
  VALKEY_PORT=$((VALKEY_PORT + _off)) VALKEY_TLS_PORT=$((VALKEY_TLS_PORT + _off))
  KAFKA_PORT=$((KAFKA_PORT + _off)) KAFKA_CONTROLLER_PORT=$((KAFKA_CONTROLLER_PORT + _off))
  CONNECT_PORT=$((CONNECT_PORT + _off)) POSTGRES_PORT=$((POSTGRES_PORT + _off))
  DYNAMODB_PORT=$((DYNAMODB_PORT + _off)) SQS_PORT=$((SQS_PORT + _off))
  _ports=""
  for _p in $VALKEY_CLUSTER_PORTS; do _ports+="${_ports:+ }$((_p + _off))"; done
  VALKEY_CLUSTER_PORTS=$_ports
  unset _off _p _ports
fi

CDC_CACHE_HOME="${CDC_CACHE_HOME:-$HOME/.cache/cdc-cache}"
DIST_DIR="$CDC_CACHE_HOME/dist"
M2_DIR="$CDC_CACHE_HOME/m2"
RUN_DIR="${CDC_CACHE_RUN_DIR:-$CDC_CACHE_HOME/run}"
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"
STATE_DIR="$RUN_DIR/state"
mkdir -p "$DIST_DIR" "$M2_DIR" "$LOG_DIR" "$PID_DIR" "$STATE_DIR"

# PostgreSQL refuses to run as root, and the postgres user cannot enter /root, so as root its data
# directory lives where that user can reach it (one per CDC_CACHE_HOME). Override: CDC_CACHE_PG_DIR.
if [ "$(id -u)" = 0 ]; then
  PG_DIR="${CDC_CACHE_PG_DIR:-/var/tmp/cdc-cache-postgres-$(printf %s "$CDC_CACHE_HOME" | md5sum | cut -c1-8)}"
else
  PG_DIR="${CDC_CACHE_PG_DIR:-$RUN_DIR/postgres}"
fi

say() { echo "services: $*" >&2; }

# Lines of a service's log printed when it fails.
LOG_TAIL_LINES="${CDC_CACHE_LOG_TAIL:-60}"

print_log_tail() { # name logfile
  local name=$1 file=$2
  if [ -s "$file" ]; then
    echo "----- last $LOG_TAIL_LINES lines of $name log ($file) -----" >&2
    tail -n "$LOG_TAIL_LINES" "$file" >&2
    echo "----- end of $name log -----" >&2
  else
    echo "(no log output for $name at $file)" >&2
  fi
}

# Records why a service failed (read by `status` and the vitest global setup) and prints its log.
service_failed() { # name reason [logfile]
  local name=$1 reason=$2 file
  file=${3:-$LOG_DIR/$1.log}
  echo "$reason" >"$STATE_DIR/$name.error"
  say "FAILED $name: $reason"
  print_log_tail "$name" "$file"
  return 1
}

service_ok() { rm -f "$STATE_DIR/$1.error"; }

port_open() { # port
  (exec 3<>"/dev/tcp/$BIND_HOST/$1") 2>/dev/null
}

# Before a launch: a port that already answers belongs to someone else (the harness only launches
# services it does not see running), e.g. the harness of another checkout or CDC_CACHE_HOME.
ports_free() { # name ports...
  local name=$1 port
  shift
  for port in "$@"; do
    if port_open "$port"; then
      echo "port $BIND_HOST:$port is already in use by a process this harness did not start (ss -ltnp 'sport = :$port')" \
        >"$STATE_DIR/$name.error"
      say "$name: port $port is already in use by another process"
      return 1
    fi
  done
}

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.5 s; returns 1 after SECONDS.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

# wait_alive_until NAME SECONDS DESCRIPTION CMD...: like wait_until, but gives up at once when the
# process NAME the harness started has exited.
wait_alive_until() {
  local name=$1 limit=$2 what=$3
  shift 3
  local deadline=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    if ! pid_of "$name" >/dev/null; then
      say "$name exited while waiting for $what"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
}

# A pidfile holds "PID MARKER"; the process counts as ours only while its command line has MARKER.
pid_of() { # name -> prints pid when alive and ours
  local file="$PID_DIR/$1.pid" pid marker
  [ -f "$file" ] || return 1
  read -r pid marker <"$file" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
  echo "$pid"
}

# A zombie (exited, not yet reaped by whatever adopted it) counts as stopped.
running() { # pid
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

write_pid() { echo "$2 $3" >"$PID_DIR/$1.pid"; } # name pid marker

# start_bg NAME MARKER LOGFILE CMD...: runs CMD detached (own session), output appended to LOGFILE.
start_bg() {
  local name=$1 marker=$2 logfile=$3
  shift 3
  # One log per run of the service; the previous run's stays beside it as .prev.
  [ -f "$logfile" ] && mv -f "$logfile" "$logfile.prev"
  echo "=== $(date -u +%FT%TZ) starting $name: $*" >"$logfile"
  setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  write_pid "$name" "$!" "$marker"
}

# stop_pid NAME [SECONDS]: TERM, wait, then KILL; only for processes this harness started.
stop_pid() {
  local name=$1 limit=${2:-20} pid
  if pid=$(pid_of "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + limit))
    while running "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.3; done
    if running "$pid"; then
      say "$name (pid $pid) ignored TERM for ${limit}s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PID_DIR/$name.pid"
}

# ---------------------------------------------------------------- installs

APT_GET=(timeout 900 apt-get -o DPkg::Lock::Timeout=300 -y -q)
APT_UPDATED=0

apt_missing() { # packages... -> prints the ones not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
  done
}

apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" update >>"$LOG_DIR/install-apt.log" 2>&1 || return 1
  APT_UPDATED=1
}

ensure_backports_source() {
  if grep -rqs "$VALKEY_APT_SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/; then return 0; fi
  say "adding the $VALKEY_APT_SUITE apt suite"
  cat >/etc/apt/sources.list.d/backports.sources <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $VALKEY_APT_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  APT_UPDATED=0
}

# apt_install [-t SUITE] PACKAGES...: installs what is missing (needs root).
apt_install() {
  local suite=()
  if [ "$1" = -t ]; then suite=(-t "$2"); shift 2; fi
  local missing
  missing=$(apt_missing "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: $missing — install them as root: apt-get install ${suite[*]} $missing"
    return 1
  fi
  say "apt-get install ${suite[*]} $(echo $missing)"
  apt_update_once || return 1
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" install --no-install-recommends "${suite[@]}" $missing \
    >>"$LOG_DIR/install-apt.log" 2>&1
}

# Packages may start their system service (valkey on 6379, the Debian "main" postgres cluster on
# 5432) when installed; the harness never uses them, so stop and disable them right after install.
stop_system_service() { # unit
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$1" >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service "$1" stop >/dev/null 2>&1 || true
  fi
}

MVN=(timeout 900 mvn -B -q --no-transfer-progress)
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# maven_dist NAME POMDIR OUTDIR [-Dprop=value...]: copies the pom's runtime dependencies into
# OUTDIR once (marker file .complete), from the Maven cache under $CDC_CACHE_HOME/m2.
maven_dist() {
  local name=$1 pom=$2 out=$3
  shift 3
  [ -f "$out/.complete" ] && return 0
  command -v mvn >/dev/null 2>&1 || { say "mvn not found (apt-get install maven)"; return 1; }
  say "resolving $name from Maven Central into $out"
  rm -rf "$out.tmp"
  if ! "${MVN[@]}" -Dmaven.repo.local="$M2_DIR" -f "$HARNESS_DIR/maven/$pom/pom.xml" "$@" \
    "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$out.tmp" \
    >"$LOG_DIR/install-$name.log" 2>&1; then
    say "maven resolution of $name failed"
    print_log_tail "install-$name" "$LOG_DIR/install-$name.log"
    return 1
  fi
  rm -rf "$out" && mv "$out.tmp" "$out" && touch "$out/.complete"
}

JAVA_MIN=17
ensure_java() {
  command -v java >/dev/null 2>&1 || { say "java not found (apt-get install openjdk-17-jre-headless)"; return 1; }
  local v
  v=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  [ "${v%%.*}" -ge "$JAVA_MIN" ] || { say "java $v is too old: need $JAVA_MIN+"; return 1; }
}
