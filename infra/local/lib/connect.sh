# Kafka Connect (standalone) running two Debezium PostgreSQL connectors against the harness's
# Postgres and Kafka: `cdc-pg-schema` (JSON with schemas, topic prefix $DEBEZIUM_SCHEMA_PREFIX,
# decimals in Debezium's default "precise" encoding) and `cdc-pg-plain` (JSON without schemas,
# prefix $DEBEZIUM_PLAIN_PREFIX, decimals as strings). Both read the `cdc_pub` publication through
# their own replication slot. Offsets live in a file under $RUN_DIR/connect, reset on every start.

CONNECT_RUN="$RUN_DIR/connect"
CONNECT_PLUGINS="$DIST_DIR/connect-plugins-debezium-$DEBEZIUM_VERSION"
CONNECTORS="cdc-pg-schema cdc-pg-plain"

connector_running() { # name
  curl -sf -m 3 "http://$BIND_HOST:$CONNECT_PORT/connectors/$1/status" |
    grep -q '"connector":{"state":"RUNNING".*"tasks":\[{"id":0,"state":"RUNNING"'
}

connectors_running() {
  local c
  for c in $CONNECTORS; do connector_running "$c" || return 1; done
}

is_up_connect() { pid_of connect >/dev/null && connectors_running; }

connector_props() { # name prefix slot schemas(true|false) [extra lines on stdin]
  cat <<PROPS
name=$1
connector.class=io.debezium.connector.postgresql.PostgresConnector
tasks.max=1
plugin.name=pgoutput
database.hostname=$BIND_HOST
database.port=$POSTGRES_PORT
database.user=$POSTGRES_USER
database.password=$POSTGRES_PASSWORD
database.dbname=$POSTGRES_DB
topic.prefix=$2
slot.name=$3
slot.drop.on.stop=false
publication.name=cdc_pub
publication.autocreate.mode=disabled
schema.include.list=public
snapshot.mode=initial
poll.interval.ms=5
key.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=$4
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=$4
PROPS
  cat
}

# Slots left by an earlier run would make Debezium resume from a position its (reset) offsets
# do not know; drop the inactive ones so every start snapshots and streams from a clean point.
drop_stale_slots() {
  as_pg "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$POSTGRES_PORT" -U postgres -d "$POSTGRES_DB" -c \
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
     WHERE slot_name IN ('cdc_schema', 'cdc_plain') AND NOT active" >/dev/null
}

launch_connect() {
  stop_connect
  ports_free connect "$CONNECT_PORT" || return 1
  drop_stale_slots || { say "could not drop stale replication slots"; return 1; }
  rm -rf "$CONNECT_RUN" && mkdir -p "$CONNECT_RUN"
  cat >"$CONNECT_RUN/worker.properties" <<PROPS
bootstrap.servers=$BIND_HOST:$KAFKA_PORT
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$CONNECT_RUN/offsets.dat
offset.flush.interval.ms=1000
listeners=http://$BIND_HOST:$CONNECT_PORT
rest.advertised.host.name=$BIND_HOST
plugin.path=$CONNECT_PLUGINS
plugin.discovery=hybrid_warn
producer.linger.ms=0
PROPS
  connector_props cdc-pg-schema "$DEBEZIUM_SCHEMA_PREFIX" cdc_schema true \
    </dev/null >"$CONNECT_RUN/cdc-pg-schema.properties"
  connector_props cdc-pg-plain "$DEBEZIUM_PLAIN_PREFIX" cdc_plain false \
    >"$CONNECT_RUN/cdc-pg-plain.properties" <<'PROPS'
decimal.handling.mode=string
PROPS
  kafka_java connect
  start_bg connect "-Dcdc.cache.service=connect" "$LOG_DIR/connect.log" \
    "${JAVA_CMD[@]}" org.apache.kafka.connect.cli.ConnectStandalone "$CONNECT_RUN/worker.properties" \
    "$CONNECT_RUN/cdc-pg-schema.properties" "$CONNECT_RUN/cdc-pg-plain.properties"
}

ready_connect() {
  wait_alive_until connect 180 "Kafka Connect connectors ($CONNECTORS) RUNNING" connectors_running
}

stop_connect() { stop_pid connect 30; }
