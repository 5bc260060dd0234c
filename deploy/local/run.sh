#!/usr/bin/env bash
# Runs services of the project in the foreground against the local stack, their output interleaved and each line
# prefixed with "[name] ". `make run` builds bin/ and starts the stack first.
#
#   deploy/local/run.sh SERVICE...      SERVICE is writer, queryapi, relay or projectors
#
# Environment: the stack's endpoints come from .local/env (written by `make up`); AUTH_HS256_SECRET defaults to
# local-dev-secret; CONSISTENCY_TOKEN_SECRET (the key of the consistency tokens, shared by the writer and the query
# API) is passed on when set, else both derive it from AUTH_HS256_SECRET; <SERVICE>_HTTP_ADDR (e.g. WRITER_HTTP_ADDR=127.0.0.1:9080) moves one service off its default
# address. Ctrl-C or SIGTERM stops the services (SIGTERM, then SIGKILL after RUN_STOP_TIMEOUT seconds, default
# 20), never the stack. When one service exits on its own, the others are stopped and the script exits non-zero
# naming it. Once the writer answers /readyz (polled for RUN_READY_TIMEOUT seconds, default 60), the script prints
# its URL and the query API's and a token for the account "demo" that `make demo` fills with data.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN_STOP_TIMEOUT=${RUN_STOP_TIMEOUT:-20}
RUN_READY_TIMEOUT=${RUN_READY_TIMEOUT:-60}

say() { printf 'run: %s\n' "$*"; }
fail() { printf 'run: error: %s\n' "$*" >&2; exit 1; }

# default_addr SERVICE: the service's default listen address, as its config.go sets it.
default_addr() {
  case $1 in
    writer) echo 127.0.0.1:8080 ;;
    queryapi) echo 127.0.0.1:8081 ;;
    relay) echo 127.0.0.1:8082 ;;
    projectors) echo 127.0.0.1:8083 ;;
    *) return 1 ;;
  esac
}

# addr_of SERVICE: <SERVICE>_HTTP_ADDR when set, else the default address.
addr_of() {
  local var
  var="$(tr '[:lower:]' '[:upper:]' <<<"$1")_HTTP_ADDR"
  if [ -n "${!var:-}" ]; then echo "${!var}"; else default_addr "$1"; fi
}

[ $# -gt 0 ] || { echo "usage: $0 SERVICE... (writer queryapi relay projectors)" >&2; exit 2; }
for name in "$@"; do
  default_addr "$name" >/dev/null || fail "unknown service '$name' (want writer, queryapi, relay or projectors)"
  [ -x "$ROOT/bin/$name" ] || fail "bin/$name is missing: run \`make build\` (or \`make run\`, which builds)"
done
[ -f "$ROOT/.local/env" ] || fail ".local/env is missing: run \`make up\` to start the local stack"

set -a
# shellcheck source=/dev/null
. "$ROOT/.local/env"
set +a
export AUTH_HS256_SECRET=${AUTH_HS256_SECRET:-local-dev-secret}
# Empty: the writer and the query API derive the same token key from AUTH_HS256_SECRET.
export CONSISTENCY_TOKEN_SECRET=${CONSISTENCY_TOKEN_SECRET:-}
# Locally the writer creates its journal tables and snapshot bucket; in AWS the infrastructure code owns them.
export DYNAMODB_CREATE_TABLES=${DYNAMODB_CREATE_TABLES:-true}

FIFOS=$(mktemp -d)
trap 'rm -rf "$FIFOS"' EXIT

declare -A NAME_OF=() # service PID -> name
PIDS=()               # service PIDs still running
PREFIXERS=()          # PIDs of the sed processes that prefix the output
ANNOUNCER=            # PID of announce, while it waits for the writer

# start NAME: runs bin/NAME in the background with its stdout and stderr prefixed line by line through a FIFO,
# so that $! is the service itself and can be signalled. The prefixer ignores SIGINT and SIGTERM (a terminal's
# Ctrl-C reaches the whole process group) so it outlives the service and prints its last lines.
start() {
  local name=$1 fifo=$FIFOS/$1
  mkfifo "$fifo"
  (trap '' INT TERM; exec sed -u "s/^/[$name] /" <"$fifo") &
  PREFIXERS+=($!)
  HTTP_ADDR=$(addr_of "$name") "$ROOT/bin/$name" >"$fifo" 2>&1 </dev/null &
  NAME_OF[$!]=$name
  PIDS+=($!)
}

# forget PID: drops PID from the running services.
forget() {
  local p kept=()
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

# stop_all: SIGTERM to every running service, then waits up to RUN_STOP_TIMEOUT seconds for all of them and
# SIGKILLs the rest; it succeeds when every service it waited for exited with status 0.
stop_all() {
  local pid done_pid status timer ok=0 list=
  [ ${#PIDS[@]} -gt 0 ] || return 0
  for pid in "${PIDS[@]}"; do list+="${list:+, }${NAME_OF[$pid]} (pid $pid)"; done
  say "stopping $list"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep "$RUN_STOP_TIMEOUT" &
  timer=$!
  while [ ${#PIDS[@]} -gt 0 ]; do
    done_pid=
    status=0
    wait -n -p done_pid "${PIDS[@]}" "$timer" || status=$?
    if [ "${done_pid:-}" = "$timer" ]; then
      for pid in "${PIDS[@]}"; do
        say "${NAME_OF[$pid]} (pid $pid) did not stop within ${RUN_STOP_TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
      done
      PIDS=()
      return 1
    fi
    [ -n "${done_pid:-}" ] || continue # a signal interrupted the wait
    forget "$done_pid"
    if [ "$status" = 0 ]; then
      say "${NAME_OF[$done_pid]} stopped"
    else
      say "${NAME_OF[$done_pid]} stopped with status $status"
      ok=1
    fi
  done
  kill "$timer" 2>/dev/null || true
  wait "$timer" 2>/dev/null || true
  return "$ok"
}

# announce: waits until the writer answers /readyz, then prints where the writer and the query API listen and a
# token for the demo account, minted by deploy/local/token with the secret the services got. It says so and
# gives up (the services keep running) when the writer is not ready within RUN_READY_TIMEOUT seconds.
announce() {
  local writer query token deadline=$((SECONDS + RUN_READY_TIMEOUT))
  writer=$(addr_of writer)
  until curl -fs -o /dev/null --max-time 2 "http://$writer/readyz"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "the writer did not answer http://$writer/readyz within ${RUN_READY_TIMEOUT}s: see its log lines; still running"
      return 0
    fi
    sleep 0.5 # polling interval
  done
  say "ready: writer http://$writer"
  if [[ " ${NAME_OF[*]} " == *" queryapi "* ]]; then
    query=$(addr_of queryapi)
    say "       query API http://$query"
  fi
  if ! token=$(cd "$ROOT" && "${GO:-go}" run ./deploy/local/token -sub demo -ttl 12h); then
    say "could not mint a token for the demo account (go run ./deploy/local/token failed)"
    return 0
  fi
  say "token of the account \"demo\", valid 12h (paste it into another terminal):"
  printf '\n  export TOKEN=%s\n\n' "$token"
  say "make demo loads the demo data (accounts, rooms, messages in English and Japanese; run it in another"
  say "terminal), then, with the token above: curl -s -H \"Authorization: Bearer \$TOKEN\" http://${query:-$(default_addr queryapi)}/v1/rooms"
}

# finish CODE: stops the services, waits for the prefixers to print their last lines, and exits with CODE, or 1
# when a service did not stop cleanly.
finish() {
  # A no-op handler rather than ignoring: ignored signals would be inherited by the timer below.
  trap : INT TERM
  if [ -n "$ANNOUNCER" ]; then kill "$ANNOUNCER" 2>/dev/null || true; fi
  stop_all || set -- 1
  wait "${PREFIXERS[@]}" 2>/dev/null || true
  exit "$1"
}

# Set before the services start, so that no signal can end the script and leave them behind.
STOP_REQUESTED=
trap 'STOP_REQUESTED=INT' INT
trap 'STOP_REQUESTED=TERM' TERM

for name in "$@"; do start "$name"; done
for pid in "${PIDS[@]}"; do
  say "${NAME_OF[$pid]} (pid $pid): http://$(addr_of "${NAME_OF[$pid]}")  /healthz /readyz /metrics"
done
say "Ctrl-C stops the services (the stack keeps running; \`make down\` stops it)"
if [[ " $* " == *" writer "* ]]; then
  announce &
  ANNOUNCER=$!
fi

while :; do
  exited=
  status=0
  wait -n -p exited "${PIDS[@]}" || status=$?
  if [ -n "$STOP_REQUESTED" ]; then
    say "SIG$STOP_REQUESTED received"
    [ -z "${exited:-}" ] || forget "$exited"
    finish 0
  fi
  [ -n "${exited:-}" ] || continue
  forget "$exited"
  printf 'run: error: %s (pid %s) exited with status %s; stopping the others\n' \
    "${NAME_OF[$exited]}" "$exited" "$status" >&2
  finish 1
done
