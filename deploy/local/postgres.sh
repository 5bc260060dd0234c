# PostgreSQL 15+ from Debian's packages, in its own data folder, run as a non-root user. Sourced by
# deploy/local/stack.sh, which sets LOCAL and POSTGRES_PORT.

POSTGRES_USER=chat
POSTGRES_PASSWORD=chat
POSTGRES_DB=chat
POSTGRES_DATA=$LOCAL/data/postgres

# postgres_bin prints the bin folder of the newest installed PostgreSQL, 15 or later.
postgres_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$d/initdb" ] && [ "$(basename "$(dirname "$d")")" -ge 15 ] && echo "$d" && return 0
  done
  return 1
}

# The server refuses to run as root: as root, run it as the `postgres` account (setpriv execs, keeping the PID).
if [ "$(id -u)" = 0 ]; then
  POSTGRES_OS_USER=postgres
  POSTGRES_RUNAS=(setpriv --reuid=postgres --regid=postgres --init-groups --)
else
  POSTGRES_OS_USER=$(id -un)
  POSTGRES_RUNAS=()
fi

# postgres_grant_traverse lets the server's account reach the data folder: ancestors of .local that others cannot
# traverse (a clone under `mktemp -d`, say) get the search bit only, never read.
postgres_grant_traverse() {
  [ "$(id -u)" = 0 ] || return 0
  local d=$LOCAL
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    if [ "$(stat -c %A "$d" | cut -c10)" = - ]; then
      echo "stack: chmod o+x $d (so the postgres account can reach $LOCAL)"
      chmod o+x "$d" || return 1
    fi
  done
}

# postgres_install installs Debian's postgresql package when no server binaries are present (needs root).
postgres_install() {
  if ! postgres_bin >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "stack: install PostgreSQL 15+ (apt-get install postgresql)" >&2; return 1; }
    echo "stack: installing postgresql (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null || return 1
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres || return 1
  fi
}

# postgres_start creates the cluster on first use (scram passwords over TCP) and starts the server.
postgres_start() {
  local bin user=$POSTGRES_OS_USER
  bin=$(postgres_bin) || return 1
  postgres_grant_traverse || return 1
  mkdir -p "$POSTGRES_DATA" "$LOCAL/run/postgres"
  chmod 0700 "$POSTGRES_DATA"
  chown "$user" "$POSTGRES_DATA" "$LOCAL/run/postgres" "$LOCAL/log/postgres.log"
  if [ ! -f "$POSTGRES_DATA/PG_VERSION" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" >"$LOCAL/run/postgres/pwfile"
    chown "$user" "$LOCAL/run/postgres/pwfile"
    "${POSTGRES_RUNAS[@]}" "$bin/initdb" -D "$POSTGRES_DATA" -U "$POSTGRES_USER" --pwfile="$LOCAL/run/postgres/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$LOCAL/log/postgres.log" 2>&1 || return 1
    rm -f "$LOCAL/run/postgres/pwfile"
  fi
  # fsync off: a development stack trades crash safety of the machine for speed; the tests kill processes, not
  # machines.
  spawn postgres "${POSTGRES_RUNAS[@]}" "$bin/postgres" -D "$POSTGRES_DATA" -p "$POSTGRES_PORT" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories="$LOCAL/run/postgres" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
    -c shared_buffers=256MB -c log_min_messages=warning
}

# postgres_ready succeeds when the server accepts connections over TCP.
postgres_ready() {
  "$(postgres_bin)/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres
}

# postgres_bootstrap creates the project database when it is missing.
postgres_bootstrap() {
  local psql
  psql=("$(postgres_bin)/psql" -X -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -v ON_ERROR_STOP=1)
  if ! PGPASSWORD=$POSTGRES_PASSWORD "${psql[@]}" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_DB'" | grep -q 1; then
    PGPASSWORD=$POSTGRES_PASSWORD "${psql[@]}" -d postgres -c "CREATE DATABASE $POSTGRES_DB" || return 1
  fi
}
