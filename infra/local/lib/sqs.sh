# ElasticMQ, an SQS-compatible server, from Maven Central (org.elasticmq:elasticmq-server_2.13), in
# memory, for the dead-letter redrive tests (the Lambda handlers' poison queue and the on-failure
# destination). Its configuration is written per run so CDC_CACHE_PORT_OFFSET applies.

SQS_DIST="$DIST_DIR/elasticmq-$ELASTICMQ_VERSION"

install_sqs() {
  ensure_java || return 1
  maven_dist elasticmq elasticmq "$SQS_DIST/lib" -Delasticmq.version="$ELASTICMQ_VERSION"
}

sqs_answers() {
  # ListQueues over the query protocol answers 200 once the REST server is bound.
  curl -sf -o /dev/null -m 2 "http://$BIND_HOST:$SQS_PORT/?Action=ListQueues"
}

is_up_sqs() { pid_of sqs >/dev/null && sqs_answers; }

launch_sqs() {
  ports_free sqs "$SQS_PORT" || return 1
  local conf="$STATE_DIR/elasticmq.conf"
  cat >"$conf" <<CONF
include classpath("application.conf")
node-address { protocol = http, host = "$BIND_HOST", port = $SQS_PORT, context-path = "" }
rest-sqs { enabled = true, bind-port = $SQS_PORT, bind-hostname = "$BIND_HOST", sqs-limits = strict }
rest-stats { enabled = false }
CONF
  start_bg sqs "-Dcdc.cache.service=sqs" "$LOG_DIR/sqs.log" \
    java -Dcdc.cache.service=sqs -Xmx256m -Dconfig.file="$conf" -cp "$SQS_DIST/lib/*" org.elasticmq.server.Main
}

ready_sqs() {
  wait_alive_until sqs 60 "ElasticMQ on $SQS_PORT" sqs_answers
}

stop_sqs() { stop_pid sqs; }
