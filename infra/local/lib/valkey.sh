# Valkey 8 from Debian bookworm-backports: a standalone server, a 3-master cluster and a TLS server
# with an ACL user. Each instance is a private valkey-server process (config under $RUN_DIR/valkey,
# no persistence, so every start is a clean keyspace); the Debian system service is never used.

VALKEY_SERVER=/usr/bin/valkey-server
VALKEY_CLI=/usr/bin/valkey-cli
TLS_DIR="$CDC_CACHE_HOME/tls"

install_valkey() {
  if [ -x "$VALKEY_SERVER" ] && [ -x "$VALKEY_CLI" ]; then
    valkey_major_ok && return 0
  fi
  if [ "$(id -u)" = 0 ]; then ensure_backports_source; fi
  local fresh
  fresh=$(apt_missing valkey-server valkey-tools)
  apt_install -t "$VALKEY_APT_SUITE" valkey-server valkey-tools || return 1
  [ -n "$fresh" ] && stop_system_service valkey-server
  valkey_major_ok
}

valkey_major_ok() {
  local v
  v=$("$VALKEY_SERVER" --version | sed -n 's/.* v=\([0-9]*\)\..*/\1/p')
  [ "$v" = "$VALKEY_MAJOR" ] || { say "valkey-server major is '$v', versions.env wants $VALKEY_MAJOR"; return 1; }
}

# valkey_conf NAME PORT [extra config lines on stdin] -> writes $RUN_DIR/valkey/NAME.conf
valkey_conf() {
  local name=$1 port=$2 dir="$RUN_DIR/valkey/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  {
    echo "bind $BIND_HOST"
    echo "port $port"
    echo "dir $dir"
    echo "daemonize no"
    echo "set-proc-title no"
    echo "save \"\""
    echo "appendonly no"
    echo "logfile \"\""
    echo "protected-mode yes"
    cat
  } >"$RUN_DIR/valkey/$name.conf"
}

valkey_launch() { # name port (extra config on stdin)
  local name=$1
  valkey_conf "$@"
  start_bg "$name" "$RUN_DIR/valkey/$name.conf" "$LOG_DIR/$name.log" \
    "$VALKEY_SERVER" "$RUN_DIR/valkey/$name.conf"
}

valkey_ping() { [ "$("$VALKEY_CLI" -h "$BIND_HOST" -p "$1" ping 2>/dev/null)" = PONG ]; }

# ---- standalone

is_up_valkey() { pid_of valkey >/dev/null && valkey_ping "$VALKEY_PORT"; }
launch_valkey() { ports_free valkey "$VALKEY_PORT" && valkey_launch valkey "$VALKEY_PORT" </dev/null; }
ready_valkey() { wait_alive_until valkey 20 "valkey on $VALKEY_PORT" valkey_ping "$VALKEY_PORT"; }
stop_valkey() { stop_pid valkey; }

# ---- cluster (3 masters, no replicas)

cluster_node_name() { echo "valkey-cluster-$1"; }

cluster_ok() {
  local port
  for port in $VALKEY_CLUSTER_PORTS; do
    "$VALKEY_CLI" -h "$BIND_HOST" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

cluster_pings() {
  local port
  for port in $VALKEY_CLUSTER_PORTS; do
    pid_of "$(cluster_node_name "$port")" >/dev/null || { say "valkey cluster node $port exited"; return 2; }
    valkey_ping "$port" || return 1
  done
}

wait_cluster_pings() { # bounded; fails at once when a node exited
  local deadline=$((SECONDS + 20)) rc
  while :; do
    cluster_pings
    rc=$?
    [ "$rc" = 0 ] && return 0
    [ "$rc" = 2 ] && return 1
    [ "$SECONDS" -ge "$deadline" ] && { say "timed out waiting for valkey cluster nodes"; return 1; }
    sleep 0.5
  done
}

is_up_valkey_cluster() {
  local port
  for port in $VALKEY_CLUSTER_PORTS; do pid_of "$(cluster_node_name "$port")" >/dev/null || return 1; done
  cluster_ok
}

launch_valkey_cluster() {
  stop_valkey_cluster # a partial cluster is rebuilt from scratch
  local port
  for port in $VALKEY_CLUSTER_PORTS; do
    ports_free valkey-cluster "$port" "$((port + 10000))" || return 1
  done
  for port in $VALKEY_CLUSTER_PORTS; do
    valkey_launch "$(cluster_node_name "$port")" "$port" <<EOF
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
cluster-require-full-coverage yes
EOF
  done
}

ready_valkey_cluster() {
  wait_cluster_pings || return 1
  local nodes=() port
  for port in $VALKEY_CLUSTER_PORTS; do nodes+=("$BIND_HOST:$port"); done
  timeout 60 "$VALKEY_CLI" --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
    >>"$LOG_DIR/valkey-cluster.log" 2>&1 || { say "valkey-cli --cluster create failed"; return 1; }
  wait_until 30 "valkey cluster_state:ok" cluster_ok
}

stop_valkey_cluster() {
  local port
  for port in $VALKEY_CLUSTER_PORTS; do stop_pid "$(cluster_node_name "$port")"; done
}

# The cluster's log is the create output plus each node's log.
log_valkey_cluster() {
  local port
  for port in $VALKEY_CLUSTER_PORTS; do echo "$LOG_DIR/$(cluster_node_name "$port").log"; done
  echo "$LOG_DIR/valkey-cluster.log"
}

# ---- TLS + ACL

# Self-signed CA and a server certificate for 127.0.0.1/localhost, made once per CDC_CACHE_HOME.
ensure_tls_certs() {
  [ -s "$TLS_DIR/ca.crt" ] && [ -s "$TLS_DIR/server.crt" ] && [ -s "$TLS_DIR/server.key" ] && return 0
  command -v openssl >/dev/null 2>&1 || apt_install openssl || return 1
  rm -rf "$TLS_DIR" && mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR" || exit 1
    openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 -keyout ca.key -out ca.crt \
      -subj "/CN=cdc-cache local test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
      openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout server.key -out server.csr \
        -subj "/CN=localhost" &&
      printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext &&
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
        -extfile server.ext -out server.crt
  ) >"$LOG_DIR/install-tls.log" 2>&1 || { print_log_tail tls "$LOG_DIR/install-tls.log"; return 1; }
  chmod 600 "$TLS_DIR"/*.key
}

tls_ping() {
  [ "$("$VALKEY_CLI" --tls --cacert "$TLS_DIR/ca.crt" -h "$BIND_HOST" -p "$VALKEY_TLS_PORT" \
    --user "$VALKEY_ACL_USER" --pass "$VALKEY_ACL_PASSWORD" --no-auth-warning ping 2>/dev/null)" = PONG ]
}

is_up_valkey_tls() { pid_of valkey-tls >/dev/null && tls_ping; }

launch_valkey_tls() {
  ports_free valkey-tls "$VALKEY_TLS_PORT" || return 1
  ensure_tls_certs || return 1
  valkey_launch valkey-tls 0 <<EOF
tls-port $VALKEY_TLS_PORT
tls-cert-file $TLS_DIR/server.crt
tls-key-file $TLS_DIR/server.key
tls-ca-cert-file $TLS_DIR/ca.crt
tls-auth-clients no
user default off
user $VALKEY_ACL_USER on >$VALKEY_ACL_PASSWORD ~* &* +@all
EOF
}

ready_valkey_tls() { wait_alive_until valkey-tls 20 "valkey TLS on $VALKEY_TLS_PORT" tls_ping; }
stop_valkey_tls() { stop_pid valkey-tls; }
