# shellcheck shell=bash
# Local single-node OpenSearch 2.19, installed from Maven jars only (no Docker,
# no tarball). SOURCE this file; do not execute it.
#
# The caller sets, before calling the functions:
#   ROOT                        repo root
#   LOCAL                       $ROOT/.local
#   OPENSEARCH_PORT             HTTP port      (default 19200)
#   OPENSEARCH_TRANSPORT_PORT   transport port (default 19300)
#
# Functions:
#   opensearch_install  idempotent; jars -> $LOCAL/opt/opensearch/lib,
#                       Launcher -> $LOCAL/opt/opensearch/classes
#   opensearch_start    background server, pid in $LOCAL/run/opensearch.pid,
#                       log in $LOCAL/log/opensearch.log, data in $LOCAL/data/opensearch
#   opensearch_ready    one health check: 0 when cluster status is green/yellow
# Stop: kill "$(cat "$LOCAL/run/opensearch.pid")" (SIGTERM closes the node cleanly).
#
# Only `return`, never `exit`; safe under `set -u`; helpers are prefixed opensearch_.
# Uses the `java`/`javac` on PATH (JDK 17 here; OpenSearch 2.19 wants 11..21),
# or $OPENSEARCH_JAVA_HOME/bin/{java,javac} when that is set.

opensearch_home() { printf '%s\n' "$LOCAL/opt/opensearch"; }
opensearch_src() { printf '%s\n' "$ROOT/deploy/local/opensearch"; }

opensearch_java_bin() { # $1 = java | javac
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then
    printf '%s\n' "$OPENSEARCH_JAVA_HOME/bin/$1"
  else
    printf '%s\n' "$1"
  fi
}

# Hash of everything that defines the install; a change reinstalls.
opensearch_install_hash() {
  local src
  src=$(opensearch_src)
  cat "$src/pom.xml" "$src/Launcher.java" "$src/log4j2.properties" | sha256sum | cut -d' ' -f1
}

opensearch_install() {
  local src home stamp hash out javac_bin
  src=$(opensearch_src)
  home=$(opensearch_home)
  stamp="$home/.install-stamp"
  hash=$(opensearch_install_hash) || return 1
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] &&
     [ -f "$home/classes/Launcher.class" ] && [ -f "$home/config/log4j2.properties" ]; then
    return 0
  fi
  javac_bin=$(opensearch_java_bin javac)

  # Build into fresh *.new directories, then swap, so stale jars never mix in.
  mkdir -p "$home" || return 1
  rm -rf "$home/lib.new" "$home/classes.new" "$home/config.new"
  mkdir -p "$home/lib.new" "$home/classes.new" "$home/config.new" || return 1

  if ! out=$(mvn -q -B -Dstyle.color=never -f "$src/pom.xml" dependency:copy-dependencies \
               -DoutputDirectory="$home/lib.new" -DincludeScope=runtime 2>&1); then
    printf 'opensearch_install: mvn failed:\n%s\n' "$out" >&2
    return 1
  fi
  if ! out=$("$javac_bin" -nowarn -encoding UTF-8 -cp "$home/lib.new/*" \
               -d "$home/classes.new" "$src/Launcher.java" 2>&1); then
    printf 'opensearch_install: javac failed:\n%s\n' "$out" >&2
    return 1
  fi
  cp "$src/log4j2.properties" "$home/config.new/log4j2.properties" || return 1

  rm -rf "$home/lib" "$home/classes" "$home/config" "$stamp"
  mv "$home/lib.new" "$home/lib" &&
    mv "$home/classes.new" "$home/classes" &&
    mv "$home/config.new" "$home/config" || return 1
  printf '%s\n' "$hash" >"$stamp"
}

# Prints the PID from the pid file if it is a live OpenSearch launcher; else returns 1.
opensearch_pid() {
  local pidf="$LOCAL/run/opensearch.pid" pid
  [ -f "$pidf" ] || return 1
  pid=$(cat "$pidf" 2>/dev/null) || return 1
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against a recycled PID belonging to something else
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'Launcher' || return 1
  printf '%s\n' "$pid"
}

opensearch_start() {
  local home data pidf logf java_bin i
  home=$(opensearch_home)
  data="$LOCAL/data/opensearch"
  pidf="$LOCAL/run/opensearch.pid"
  logf="$LOCAL/log/opensearch.log"

  if opensearch_pid >/dev/null; then
    return 0 # already running
  fi
  if [ ! -f "$home/classes/Launcher.class" ]; then
    printf 'opensearch_start: not installed (run opensearch_install)\n' >&2
    return 1
  fi
  java_bin=$(opensearch_java_bin java)
  mkdir -p "$data/data" "$data/logs" "$data/tmp" "$LOCAL/run" "$LOCAL/log" || return 1
  rm -f "$pidf"

  # setsid+nohup: own session, survives the calling shell. The inner bash
  # writes its own PID and then execs java, so the pid file holds java's PID.
  # JVM flags: the relevant part of the distribution's jvm.options, heap capped at 1 GiB.
  # Node settings: loopback only, fixed ports (no port-range fallback), no disk
  # watermarks. No security plugin: plain HTTP, no auth. Indices get 1 replica by
  # default, so health is yellow on one node (ready accepts that); for green, create
  # indices with number_of_replicas=0 or PUT _cluster/settings
  # {"persistent":{"cluster.default_number_of_replicas":0}} (as a node setting
  # here it is shown but not applied).
  setsid nohup bash -c 'echo "$$" >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidf" \
    "$java_bin" \
    -Xms512m -Xmx1g -XX:+UseG1GC -Xss1m \
    -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -XX:ErrorFile="$data/logs/hs_err_pid%p.log" \
    -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true \
    -Djava.locale.providers=SPI,COMPAT \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 -Dio.netty.allocator.numDirectArenas=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
    -Djava.io.tmpdir="$data/tmp" \
    -Dopensearch.path.home="$home" \
    -cp "$home/classes:$home/lib/*" \
    Launcher \
    cluster.name=local-stack \
    node.name=local \
    discovery.type=single-node \
    network.host=127.0.0.1 \
    http.port="${OPENSEARCH_PORT:-19200}" \
    transport.port="${OPENSEARCH_TRANSPORT_PORT:-19300}" \
    path.data="$data/data" \
    path.logs="$data/logs" \
    cluster.routing.allocation.disk.threshold_enabled=false \
    </dev/null >>"$logf" 2>&1 &

  # wait (briefly) for the pid file so callers can rely on it on return
  for i in $(seq 1 100); do
    [ -s "$pidf" ] && return 0
    sleep 0.05
  done
  printf 'opensearch_start: no pid file after 5s; see %s\n' "$logf" >&2
  return 1
}

opensearch_ready() {
  local body
  body=$(curl -fsS --max-time 2 "http://127.0.0.1:${OPENSEARCH_PORT:-19200}/_cluster/health" 2>/dev/null) || return 1
  case "$body" in
    *'"status":"green"'* | *'"status":"yellow"'*) return 0 ;;
  esac
  return 1
}

# opensearch_bootstrap makes new indices default to no replica: one node cannot place replicas, and an index
# with unassigned replicas keeps the cluster yellow. A persistent cluster setting, so it holds across restarts.
opensearch_bootstrap() {
  curl -fsS --max-time 5 -X PUT "http://127.0.0.1:${OPENSEARCH_PORT:-19200}/_cluster/settings" \
    -H 'Content-Type: application/json' \
    -d '{"persistent":{"cluster.default_number_of_replicas":0}}' >/dev/null
}
