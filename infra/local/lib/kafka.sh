# Kafka 4 broker in KRaft mode (one node acting as broker and controller), jars from Maven Central.
# Every start formats a fresh log directory under $RUN_DIR/kafka, so topics never leak between runs.

KAFKA_DIST="$DIST_DIR/kafka-$KAFKA_VERSION"
KAFKA_RUN="$RUN_DIR/kafka"
# Fixed cluster id: base64url of the 16 bytes "cdc-cache-local1".
KAFKA_CLUSTER_ID=Y2RjLWNhY2hlLWxvY2FsMQ

install_kafka() {
  ensure_java || return 1
  maven_dist kafka kafka "$KAFKA_DIST/lib" -Dkafka.version="$KAFKA_VERSION" \
    -Dlog4j.version="$LOG4J_VERSION" -Dslf4j.version="$SLF4J_VERSION"
}

# kafka_java SERVICE: sets JAVA_CMD to the java command line (SERVICE is the pid marker).
kafka_java() {
  JAVA_CMD=(java "-Dcdc.cache.service=$1" -Xms128m -Xmx768m -XX:+UseG1GC
    "-Dlog4j2.configurationFile=$HARNESS_DIR/conf/log4j2.properties" -cp "$KAFKA_DIST/lib/*")
}

kafka_started() {
  port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$LOG_DIR/kafka.log"
}

is_up_kafka() { pid_of kafka >/dev/null && port_open "$KAFKA_PORT"; }

launch_kafka() {
  stop_kafka
  ports_free kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" || return 1
  rm -rf "$KAFKA_RUN" && mkdir -p "$KAFKA_RUN/data"
  cat >"$KAFKA_RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$BIND_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$BIND_HOST:$KAFKA_PORT,CONTROLLER://$BIND_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$BIND_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_RUN/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=16777216
PROPS
  kafka_java kafka-format
  "${JAVA_CMD[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$KAFKA_CLUSTER_ID" -c "$KAFKA_RUN/server.properties" >"$LOG_DIR/kafka-format.log" 2>&1 ||
    { print_log_tail kafka-format "$LOG_DIR/kafka-format.log"; return 1; }
  kafka_java kafka
  start_bg kafka "-Dcdc.cache.service=kafka" "$LOG_DIR/kafka.log" \
    "${JAVA_CMD[@]}" kafka.Kafka "$KAFKA_RUN/server.properties"
}

ready_kafka() { wait_alive_until kafka 90 "Kafka on $KAFKA_PORT" kafka_started; }
stop_kafka() { stop_pid kafka 30; }
