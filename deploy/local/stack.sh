#!/usr/bin/env bash
# The local stack: real Kafka, OpenSearch, moto (DynamoDB, DynamoDB Streams, S3) and PostgreSQL servers run as plain
# processes bound to 127.0.0.1, with data, logs and PID files under .local/. No Docker.
#
#   deploy/local/stack.sh up       install what is missing, start what is not running, wait until all are ready,
#                                  write .local/env
#   deploy/local/stack.sh down     stop every server this stack started (by its PID file, nothing else)
#   deploy/local/stack.sh status   what runs, where, since when, and its memory
#   deploy/local/stack.sh clean    down, then delete .local/
#
# Ports: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), OPENSEARCH_PORT (19200), OPENSEARCH_TRANSPORT_PORT
# (19300), MOTO_PORT (15000), POSTGRES_PORT (15432). STACK_READY_TIMEOUT (seconds, default 90) bounds the wait.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL=${LOCAL:-$ROOT/.local}
HERE=$ROOT/deploy/local

KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
OPENSEARCH_PORT=${OPENSEARCH_PORT:-19200}
OPENSEARCH_TRANSPORT_PORT=${OPENSEARCH_TRANSPORT_PORT:-19300}
MOTO_PORT=${MOTO_PORT:-15000}
POSTGRES_PORT=${POSTGRES_PORT:-15432}
STACK_READY_TIMEOUT=${STACK_READY_TIMEOUT:-90}

# STACK_SERVERS picks a subset, e.g. STACK_SERVERS="kafka postgres".
read -r -a SERVERS <<<"${STACK_SERVERS:-kafka opensearch moto postgres}"

# shellcheck source=deploy/local/kafka.sh
. "$HERE/kafka.sh"
# shellcheck source=deploy/local/opensearch.sh
. "$HERE/opensearch.sh"
# shellcheck source=deploy/local/moto.sh
. "$HERE/moto.sh"
# shellcheck source=deploy/local/postgres.sh
. "$HERE/postgres.sh"

say() { printf 'stack: %s\n' "$*"; }
fail() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

pid_file() { echo "$LOCAL/run/$1.pid"; }
log_file() { echo "$LOCAL/log/$1.log"; }

# running NAME: prints the PID and succeeds when NAME's PID file names a live process.
running() {
  local f pid
  f=$(pid_file "$1")
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# spawn NAME CMD...: starts CMD in its own session, detached from this shell, logging to NAME's log file, and
# records its PID. setsid execs in place here (a background job is not a group leader), so $! is the server.
spawn() {
  local name=$1
  shift
  setsid "$@" >>"$(log_file "$name")" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
}

# since T0: seconds elapsed since the $EPOCHREALTIME value T0, one decimal.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

port_of() {
  case $1 in
    kafka) echo "$KAFKA_PORT" ;;
    opensearch) echo "$OPENSEARCH_PORT" ;;
    moto) echo "$MOTO_PORT" ;;
    postgres) echo "$POSTGRES_PORT" ;;
  esac
}

# port_taken PORT: succeeds when something listens on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_env() {
  cat >"$LOCAL/env.tmp" <<EOF
# Endpoints of the local stack, written by deploy/local/stack.sh up. Load with: set -a; . .local/env; set +a
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
OPENSEARCH_URL=http://127.0.0.1:$OPENSEARCH_PORT
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=test
AWS_SECRET_ACCESS_KEY=test
POSTGRES_URL=postgres://$POSTGRES_USER:$POSTGRES_PASSWORD@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB?sslmode=disable
EOF
  mv "$LOCAL/env.tmp" "$LOCAL/env"
}

up() {
  local t0 name pid started=() deadline
  t0=$EPOCHREALTIME
  mkdir -p "$LOCAL/run" "$LOCAL/log" "$LOCAL/data" "$LOCAL/opt"

  for name in "${SERVERS[@]}"; do
    "${name}_install" || fail "$name: install failed"
  done

  for name in "${SERVERS[@]}"; do
    if pid=$(running "$name"); then
      say "$name already running (pid $pid)"
      continue
    fi
    if port_taken "$(port_of "$name")"; then
      fail "$name: port $(port_of "$name") is taken by a process this stack did not start; stop it or set another port"
    fi
    : >"$(log_file "$name")"
    "${name}_start" || fail "$name: start failed; see $(log_file "$name")"
    started+=("$name")
  done

  deadline=$(($(date +%s) + STACK_READY_TIMEOUT))
  for name in "${SERVERS[@]}"; do
    until "${name}_ready" >/dev/null 2>&1; do
      if ! running "$name" >/dev/null; then
        printf 'stack: error: %s exited before it was ready; last lines of %s:\n' "$name" "$(log_file "$name")" >&2
        tail -n 40 "$(log_file "$name")" >&2
        exit 1
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        printf 'stack: error: %s not ready within %ss; last lines of %s:\n' "$name" "$STACK_READY_TIMEOUT" \
          "$(log_file "$name")" >&2
        tail -n 40 "$(log_file "$name")" >&2
        exit 1
      fi
      sleep 0.2
    done
    printf 'stack: %-10s ready on 127.0.0.1:%s after %ss\n' "$name" "$(port_of "$name")" "$(since "$t0")"
  done

  if [[ " ${SERVERS[*]} " == *" postgres "* ]]; then
    postgres_bootstrap || fail "postgres: creating the project database failed; see $(log_file postgres)"
  fi
  if [[ " ${SERVERS[*]} " == *" opensearch "* ]]; then
    opensearch_bootstrap || fail "opensearch: setting cluster defaults failed; see $(log_file opensearch)"
  fi
  write_env
  say "ready in $(since "$t0")s (started: ${started[*]:-nothing})"
  sed -n 's/^\([A-Z_]*=.*\)/  \1/p' "$LOCAL/env"
}

down() {
  local name pid i
  for name in "${SERVERS[@]}"; do
    if ! pid=$(running "$name"); then
      rm -f "$(pid_file "$name")"
      continue
    fi
    # Postgres' fast shutdown is SIGINT; the JVMs and moto stop cleanly on SIGTERM.
    if [ "$name" = postgres ]; then kill -INT "$pid"; else kill -TERM "$pid"; fi
    for i in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) did not stop in 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$name")"
    say "$name stopped (pid $pid)"
  done
}

status() {
  local name pid any=0
  printf '%-11s %-8s %-8s %-22s %-26s %s\n' SERVER STATE PID ADDRESS SINCE RSS
  for name in "${SERVERS[@]}"; do
    if pid=$(running "$name"); then
      any=1
      printf '%-11s %-8s %-8s %-22s %-26s %s MiB\n' "$name" running "$pid" "127.0.0.1:$(port_of "$name")" \
        "$(ps -o lstart= -p "$pid" | xargs)" "$(($(ps -o rss= -p "$pid") / 1024))"
    else
      printf '%-11s %-8s %-8s %-22s %-26s %s\n' "$name" stopped - "127.0.0.1:$(port_of "$name")" - -
    fi
  done
  [ "$any" = 1 ] && [ -f "$LOCAL/env" ] && printf '\nendpoints (%s):\n' "$LOCAL/env" && sed -n 's/^\([A-Z_]*=.*\)/  \1/p' "$LOCAL/env"
  return 0
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  clean) down && rm -rf "$LOCAL" && say "deleted $LOCAL" ;;
  *) echo "usage: $0 up|down|status|clean" >&2; exit 2 ;;
esac
