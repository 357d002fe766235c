#!/usr/bin/env bash
# The one place that readies the services enrichbot needs outside Docker: a MongoDB-wire server
# and Redis. Used by .ci/run, `npm run dev` and the test command (jest's globalSetup).
#
#   scripts/services.sh start [--own-mongo]   ready both; prints, for eval:
#       export MONGODB_URL='...'  export REDIS_URL='...'  export ENRICHBOT_SERVICES_STATE='<dir>'
#   scripts/services.sh stop [<dir>]          stop what that `start` started (default: $ENRICHBOT_SERVICES_STATE)
#   scripts/services.sh env [<dir>]           print that `start`'s export lines again
#
# start, for each service: MONGODB_URL / REDIS_URL when set and answering; else the default
# (127.0.0.1:27017 / 127.0.0.1:6379) when it answers; else it starts one. --own-mongo always
# starts a FerretDB of its own (CI tests the code against FerretDB, not whatever is around).
#  - Redis: redis-server on 127.0.0.1:6379 (ENRICHBOT_REDIS_PORT), no persistence.
#  - FerretDB 1.24 (built once by scripts/ci/ensure-ferretdb.sh) on a free port. Its backend is
#    PostgreSQL when one answers at 127.0.0.1:5432 (user postgres, trust auth; override with
#    ENRICHBOT_PG_URL): a database of its own, created here and dropped at stop. Else SQLite,
#    in the state directory. PostgreSQL is FerretDB's main backend and much faster here (the
#    test suite 24 s vs 39 s, the engine bench five times the jobs per second).
# Everything started is recorded in a state directory under $TMPDIR, so `stop` stops only that.
# Progress goes to stderr; stdout carries only the export lines.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="${ENRICHBOT_TOOLS_DIR:-$HOME/.cache/enrichbot-tools}"
PG_URL="${ENRICHBOT_PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_PORT="${ENRICHBOT_REDIS_PORT:-6379}" # the default Redis port looked at and started on
MONGODB_PORT="${ENRICHBOT_MONGODB_PORT:-27017}" # the default MongoDB port looked at

say() { echo "[services] $*" >&2; }
die() { say "$*"; exit 1; }

# Does host:port accept a TCP connection (within about a second)?
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
host_of() { local h=${1#*://}; h=${h#*@}; h=${h%%/*}; h=${h%%\?*}; echo "${h%:*}"; }
port_of() { local h=${1#*://}; h=${h#*@}; h=${h%%/*}; h=${h%%\?*}; [[ $h == *:* ]] && echo "${h##*:}" || echo "$2"; }
url_answers() { answers "$(host_of "$1")" "$(port_of "$1" "$2")"; }

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    answers 127.0.0.1 "$p" || { echo "$p"; return 0; }
  done
  return 1
}

wait_for() { # host port seconds pid-to-watch
  local n=$(($3 * 10))
  for _ in $(seq 1 "$n"); do
    answers "$1" "$2" && return 0
    [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}

psql_do() { psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -qAtc "$1" >/dev/null 2>&1; }

start_redis() {
  if [ -n "${REDIS_URL:-}" ] && url_answers "$REDIS_URL" 6379; then
    say "Redis: using REDIS_URL"
    echo "$REDIS_URL" >"$STATE/redis.url"; return
  fi
  [ -n "${REDIS_URL:-}" ] && say "Redis: nothing answers at REDIS_URL; looking further"
  if answers 127.0.0.1 "$REDIS_PORT"; then
    say "Redis: using the one on 127.0.0.1:$REDIS_PORT"
    echo "redis://127.0.0.1:$REDIS_PORT" >"$STATE/redis.url"; return
  fi
  command -v redis-server >/dev/null || die "Redis is needed and redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL."
  local port=$REDIS_PORT
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$STATE" --logfile "$STATE/redis.log" --pidfile "$STATE/redis.pid" >&2 || die "redis-server did not start (see $STATE/redis.log)"
  echo "$port" >"$STATE/redis.started"
  wait_for 127.0.0.1 "$port" 10 || die "redis-server did not answer on 127.0.0.1:$port (see $STATE/redis.log)"
  say "Redis: started redis-server on 127.0.0.1:$port"
  echo "redis://127.0.0.1:$port" >"$STATE/redis.url"
}

start_mongo() {
  local own=$1
  if [ "$own" = 0 ]; then
    if [ -n "${MONGODB_URL:-}" ] && url_answers "$MONGODB_URL" 27017; then
      say "MongoDB: using MONGODB_URL"
      echo "$MONGODB_URL" >"$STATE/mongodb.url"; return
    fi
    [ -n "${MONGODB_URL:-}" ] && say "MongoDB: nothing answers at MONGODB_URL; looking further"
    if answers 127.0.0.1 "$MONGODB_PORT"; then
      say "MongoDB: using the one on 127.0.0.1:$MONGODB_PORT"
      echo "mongodb://127.0.0.1:$MONGODB_PORT/enrichbot" >"$STATE/mongodb.url"; return
    fi
  fi
  local ferret port backend
  ferret=$(ENRICHBOT_TOOLS_DIR="$TOOLS" bash "$ROOT/scripts/ci/ensure-ferretdb.sh") || die "could not build FerretDB (see above)"
  port=$(free_port) || die "no free port for FerretDB"
  mkdir -p "$STATE/ferret-state"
  local pg_error="psql is not installed"
  command -v psql >/dev/null && pg_error=$(psql "$PG_URL/postgres" -qAtc 'select 1' 2>&1 >/dev/null | head -1)
  if command -v psql >/dev/null && psql_do 'select 1'; then
    local db="enrichbot_ferret_$(date +%s)_$$"
    psql_do "CREATE DATABASE $db" || die "could not create database $db on PostgreSQL ($PG_URL)"
    echo "$db" >"$STATE/pg.db"
    # FerretDB 1.24 scans the whole table for every lookup by _id unless this index exists
    # (see the SQL file); with it, point reads stay ~3 ms however large a collection grows.
    psql "$PG_URL/$db" -v ON_ERROR_STOP=1 -qAt -f "$ROOT/scripts/ferretdb-pg-id-index.sql" >/dev/null 2>&1 \
      || say "FerretDB: could not add the _id index trigger to $db (lookups by _id will scan; see scripts/ferretdb-pg-id-index.sql)"
    # FerretDB 1.24 deadlocks when every pooled PostgreSQL connection is held by a request
    # waiting for its metadata lock while the lock's holder (creating a collection) waits for a
    # connection: even ping hangs (seen with pool_max_conns=20 under the suite, and at its default
    # 50 with several suites at once; goroutine dump: CollectionCreate in pool Acquire, 1,033
    # requests in Registry.getPool RLock). It needs the pool exhausted, so the pool gets 80 of
    # PostgreSQL's 100 connections (run one FerretDB on PostgreSQL at a time) and every client
    # maxPoolSize=10 in the URL below (a request may hold two connections: keep processes x 20
    # under 80).
    backend=(--handler=postgresql "--postgresql-url=$PG_URL/$db?pool_max_conns=80")
    say "FerretDB: PostgreSQL backend, database $db"
  else
    mkdir -p "$STATE/ferret-data"
    backend=(--handler=sqlite "--sqlite-url=file:$STATE/ferret-data/")
    say "FerretDB: SQLite backend (PostgreSQL at $PG_URL: ${pg_error:-not usable})"
  fi
  # setsid: its own process group, so a Ctrl-C meant for `npm run dev` or jest does not kill it
  # before `stop` has dropped its database.
  setsid "$ferret" "${backend[@]}" --listen-addr="127.0.0.1:$port" --telemetry=disable --debug-addr=- \
    --state-dir="$STATE/ferret-state" --log-level=warn >"$STATE/ferretdb.log" 2>&1 </dev/null &
  echo $! >"$STATE/ferretdb.pid"
  wait_for 127.0.0.1 "$port" 30 "$(cat "$STATE/ferretdb.pid")" || { tail -20 "$STATE/ferretdb.log" >&2; die "FerretDB did not answer on 127.0.0.1:$port"; }
  say "FerretDB: started on 127.0.0.1:$port (log $STATE/ferretdb.log)"
  # maxPoolSize: at most 10 requests in flight per client process (see the pool note above).
  echo "mongodb://127.0.0.1:$port/enrichbot?directConnection=true&retryWrites=false&maxPoolSize=10" >"$STATE/mongodb.url"
}

print_env() {
  printf "export MONGODB_URL='%s'\n" "$(cat "$1/mongodb.url")"
  printf "export REDIS_URL='%s'\n" "$(cat "$1/redis.url")"
  printf "export ENRICHBOT_SERVICES_STATE='%s'\n" "$1"
}

stop() {
  local dir=$1
  [ -d "$dir" ] && [ -f "$dir/enrichbot-services" ] || die "$dir is not a state directory of scripts/services.sh start"
  if [ -f "$dir/ferretdb.pid" ]; then
    local pid; pid=$(cat "$dir/ferretdb.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
    say "FerretDB stopped"
  fi
  if [ -f "$dir/pg.db" ]; then
    local db; db=$(cat "$dir/pg.db")
    { psql_do "DROP DATABASE IF EXISTS $db WITH (FORCE)" || psql_do "DROP DATABASE IF EXISTS $db"; } && say "PostgreSQL database $db dropped" || say "could not drop PostgreSQL database $db"
  fi
  if [ -f "$dir/redis.started" ]; then
    local port; port=$(cat "$dir/redis.started")
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || { [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null; }
    say "redis-server on $port stopped"
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    own=0
    [ "${2:-}" = --own-mongo ] && own=1
    STATE=$(mktemp -d "${TMPDIR:-/tmp}/enrichbot-services.XXXXXX")
    touch "$STATE/enrichbot-services"
    # A failed start undoes what it started.
    trap '[ -f "$STATE/mongodb.url" ] && [ -f "$STATE/redis.url" ] || stop "$STATE"' EXIT
    start_redis
    start_mongo "$own"
    print_env "$STATE"
    ;;
  stop) stop "${2:-${ENRICHBOT_SERVICES_STATE:-}}" ;;
  env) print_env "${2:-${ENRICHBOT_SERVICES_STATE:-}}" ;;
  *) echo "usage: scripts/services.sh start [--own-mongo] | stop [<state dir>] | env [<state dir>]" >&2; exit 2 ;;
esac
