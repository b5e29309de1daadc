# Shared by bench/api_latency.sh and bench/two_node_ingest.sh (sourced, not run): a PostgreSQL
# server for the run, fresh data directories, `hikeshi serve` nodes, and cleanup on exit.
#
# Needs: $HIKESHI (the binary), $BENCH_TMP (a scratch directory the caller made).

PG_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/support/pg_server.sh"
PG_ADMIN=""       # superuser URL ending in /postgres
PG_STARTED=""     # set when this run started the server (and so stops it)
SERVER_PIDS=()

bench_cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$PG_STARTED" ]; then
    "$PG_SCRIPT" stop "$BENCH_TMP/pg" >/dev/null 2>&1 || true
  fi
  rm -rf "$BENCH_TMP"
}

# Starts the throwaway server of tests/support/pg_server.sh, unless $HIKESHI_BENCH_PG names one.
pg_start() {
  if [ -n "${HIKESHI_BENCH_PG:-}" ]; then
    PG_ADMIN="$HIKESHI_BENCH_PG"
    return
  fi
  "$PG_SCRIPT" start "$BENCH_TMP/pg" >&2
  PG_STARTED=1
  PG_ADMIN=$(cat "$BENCH_TMP/pg/pg_conninfo")
}

# Prints the URL of a new, empty database NAME on the server.
pg_database() {
  local name=$1
  PGOPTIONS="-c client_min_messages=warning" psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $name" \
    -c "CREATE DATABASE $name" >/dev/null
  printf '%s\n' "${PG_ADMIN%/postgres}/$name"
}

# Initialises DATA (with --store URL when URL is not empty).
init_data() {
  local data=$1 url=$2
  local store=()
  [ -n "$url" ] && store=(--store "$url")
  HIKESHI_ADMIN_PASSWORD=bench-admin-password "$HIKESHI" init --data "$data" "${store[@]}" \
    >"$BENCH_TMP/init.log" 2>&1 || { cat "$BENCH_TMP/init.log" >&2; exit 1; }
}

# Prints a new admin token for DATA.
admin_token() {
  local data=$1 url=$2
  local store=()
  [ -n "$url" ] && store=(--store "$url")
  "$HIKESHI" token create --data "$data" "${store[@]}" --user admin 2>/dev/null | head -n 1
}

# Starts `hikeshi serve` on DATA (URL as for init_data, then extra flags) and sets SERVE_PORT once
# it listens (not a command substitution: the node must be this shell's child). Its log goes to
# DATA/serve.log.
SERVE_PORT=""
serve() {
  local data=$1 url=$2
  shift 2
  local store=()
  [ -n "$url" ] && store=(--store "$url")
  rm -f "$data/port"
  "$HIKESHI" serve --data "$data" "${store[@]}" --listen 127.0.0.1:0 --port-file "$data/port" "$@" \
    >"$data/serve.log" 2>&1 &
  SERVER_PIDS+=($!)
  for _ in $(seq 1 200); do
    if [ -s "$data/port" ]; then
      SERVE_PORT=$(cat "$data/port")
      return
    fi
    sleep 0.05
  done
  echo "hikeshi serve on $data did not start; its log:" >&2
  cat "$data/serve.log" >&2
  exit 1
}

# Stops every node started so far.
stop_servers() {
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
