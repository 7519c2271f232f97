# PostgreSQL from Debian as a private cluster: initdb into $PG_DIR (fresh on every start), port
# $POSTGRES_PORT on $BIND_HOST only, wal_level=logical for Debezium, tuned for tests (no fsync).
# As root everything runs as the `postgres` user; the Debian "main" cluster is never used.

PG_BIN="/usr/lib/postgresql/$POSTGRES_MAJOR/bin"
PG_DATA="$PG_DIR/data"

install_postgres() {
  local fresh
  fresh=$(apt_missing "postgresql-$POSTGRES_MAJOR")
  apt_install "postgresql-$POSTGRES_MAJOR" "postgresql-client-$POSTGRES_MAJOR" || return 1
  [ -n "$fresh" ] && stop_system_service postgresql
  [ -x "$PG_BIN/pg_ctl" ] || { say "$PG_BIN/pg_ctl missing after install"; return 1; }
}

as_pg() { # runs a command as the cluster owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ready() { "$PG_BIN/pg_isready" -q -h "$BIND_HOST" -p "$POSTGRES_PORT" -t 2; }

# The postmaster's pid, recorded so status/down treat it like every other service.
pg_record_pid() {
  local pid
  pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
  write_pid postgres "$pid" "$PG_DATA"
}

is_up_postgres() { pid_of postgres >/dev/null && pg_ready; }

launch_postgres() {
  stop_postgres
  ports_free postgres "$POSTGRES_PORT" || return 1
  if [ -d "$PG_DIR" ] && [ ! -e "$PG_DIR/.cdc-cache" ] && [ -n "$(ls -A "$PG_DIR")" ]; then
    say "$PG_DIR is not empty and was not made by this harness; refusing to wipe it (set CDC_CACHE_PG_DIR)"
    return 1
  fi
  rm -rf "$PG_DIR" && mkdir -p "$PG_DIR" && touch "$PG_DIR/.cdc-cache"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
  ln -sfn "$PG_DIR/postgres.log" "$LOG_DIR/postgres.log"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$LOG_DIR/postgres-initdb.log" 2>&1 ||
    { print_log_tail initdb "$LOG_DIR/postgres-initdb.log"; return 1; }
  as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<CONF
# cdc-cache local harness
listen_addresses = '$BIND_HOST'
port = $POSTGRES_PORT
unix_socket_directories = '$PG_DIR'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
fsync = off
# on (the PostgreSQL default): a commit flushes its WAL at once (no disk wait, fsync is off) and wakes
# the walsender, so Debezium sees it immediately; off delays it up to wal_writer_delay (200 ms).
synchronous_commit = on
full_page_writes = off
CONF
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null || return 1
  pg_record_pid || return 1
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$POSTGRES_PORT" -U postgres -d postgres \
    -v db="$POSTGRES_DB" -v user="$POSTGRES_USER" -v password="$POSTGRES_PASSWORD" \
    <"$HARNESS_DIR/conf/postgres-init.sql" >>"$PG_DIR/postgres.log" 2>&1 ||
    { say "applying conf/postgres-init.sql failed"; return 1; }
}

ready_postgres() { wait_until 30 "postgres on $POSTGRES_PORT" pg_ready; }

stop_postgres() {
  if [ -f "$PG_DATA/postmaster.pid" ] && [ -x "$PG_BIN/pg_ctl" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  stop_pid postgres
}
