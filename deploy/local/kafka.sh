# Apache Kafka 4.4 in KRaft combined mode, one node, installed from Maven. Sourced by deploy/local/stack.sh, which sets
# ROOT, LOCAL, KAFKA_PORT and KAFKA_CONTROLLER_PORT.

KAFKA_HOME=$LOCAL/opt/kafka
KAFKA_DATA=$LOCAL/data/kafka
KAFKA_HEAP=${KAFKA_HEAP:-512m}

# kafka_install copies the broker's jars out of the Maven repository and builds the Go metadata probe, once per
# change of the pom or the probe.
kafka_install() {
  local stamp
  stamp=$(cat "$ROOT/deploy/local/kafka/pom.xml" "$ROOT/deploy/local/kafkameta/main.go" "$ROOT/go.sum" | sha256sum | cut -c1-16)
  [ -f "$KAFKA_HOME/.installed-$stamp" ] && return 0
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_HOME/lib" "$LOCAL/bin"
  echo "stack: installing Kafka (mvn) and its probe (go build)"
  local out
  if ! out=$(mvn -q -B -f "$ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_HOME/lib" -DincludeScope=runtime 2>&1); then
    echo "$out" >&2
    return 1
  fi
  (cd "$ROOT" && go build -o "$LOCAL/bin/kafkameta" ./deploy/local/kafkameta) || return 1
  touch "$KAFKA_HOME/.installed-$stamp"
}

# kafka_start formats the storage on first use (a fresh cluster id) and starts the broker.
kafka_start() {
  mkdir -p "$KAFKA_DATA" "$LOCAL/kafka"
  sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$KAFKA_DATA|g" \
    "$ROOT/deploy/local/kafka/server.properties.in" >"$LOCAL/kafka/server.properties"
  local java_opts=(-Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$ROOT/deploy/local/kafka/log4j2.properties")
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    local id
    # A cluster id is 16 random bytes in unpadded base64url, what `StorageTool random-uuid` prints. One that
    # starts with "-" would be read as an option by the tool's argument parser (1 start in 64 failed so), so
    # draw again, as random-uuid does.
    id=-
    while [ "${id#-}" != "$id" ]; do
      id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    java "${java_opts[@]}" -cp "$KAFKA_HOME/lib/*" kafka.tools.StorageTool format --standalone -t "$id" \
      -c "$LOCAL/kafka/server.properties" >>"$LOCAL/log/kafka.log" 2>&1 || return 1
  fi
  spawn kafka java "${java_opts[@]}" -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$LOCAL/kafka/server.properties"
}

# kafka_ready succeeds when the broker answers a metadata request.
kafka_ready() {
  "$LOCAL/bin/kafkameta" -q -timeout 1s -b "127.0.0.1:$KAFKA_PORT"
}
