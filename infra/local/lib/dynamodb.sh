# DynamoDB Local (with Streams) from Maven Central, in memory and with one shared database for
# every credential/region (-sharedDb), so tests and tools see the same tables. ServerRunner cannot
# choose a bind address, so conf/DynamoDbLocalOnLoopback.java starts it bound to $BIND_HOST.

DDB_DIST="$DIST_DIR/dynamodb-local-$DYNAMODB_LOCAL_VERSION"

install_dynamodb() {
  ensure_java || return 1
  maven_dist dynamodb-local dynamodb-local "$DDB_DIST/lib" \
    -Ddynamodb.local.version="$DYNAMODB_LOCAL_VERSION" -Dsqlite4java.version="$SQLITE4JAVA_VERSION" || return 1
  # sqlite4java loads lib<name>.so by its unversioned name from java.library.path.
  local so="$DDB_DIST/native/libsqlite4java-linux-amd64.so"
  if [ ! -s "$so" ]; then
    mkdir -p "$DDB_DIST/native"
    cp "$DDB_DIST/lib/libsqlite4java-linux-amd64-$SQLITE4JAVA_VERSION.so" "$so" || return 1
  fi
}

ddb_answers() {
  # Any HTTP answer from the DynamoDB endpoint (it replies 400 to a bare GET) means it is serving.
  curl -s -o /dev/null -m 2 "http://$BIND_HOST:$DYNAMODB_PORT/"
}

is_up_dynamodb() { pid_of dynamodb >/dev/null && ddb_answers; }

launch_dynamodb() {
  ports_free dynamodb "$DYNAMODB_PORT" || return 1
  start_bg dynamodb "-Dcdc.cache.service=dynamodb" "$LOG_DIR/dynamodb.log" \
    java -Dcdc.cache.service=dynamodb -Xmx512m -Dcdc.bind="$BIND_HOST" \
    -Djava.library.path="$DDB_DIST/native" -cp "$DDB_DIST/lib/*" \
    "$HARNESS_DIR/conf/DynamoDbLocalOnLoopback.java" \
    -inMemory -sharedDb -disableTelemetry -port "$DYNAMODB_PORT"
}

ready_dynamodb() {
  wait_alive_until dynamodb 60 "DynamoDB Local on $DYNAMODB_PORT" ddb_answers
}

stop_dynamodb() { stop_pid dynamodb; }
