#!/usr/bin/env bash
# API read latency under load (issue 7): the 50th and 99th percentile of
#   GET /api/v1/incidents?limit=50     (the queue's first page)
#   GET /api/v1/incidents/{id}         (one incident, chosen at random)
# with a bearer token, measured by wrk against `hikeshi serve` holding 10,000 incidents, on SQLite
# and on PostgreSQL in the same run. Loads the incidents through POST /api/v1/incidents (curl,
# keep-alive, 8 in parallel), checks that all are there, then runs wrk for each endpoint.
#
#   bench/api_latency.sh [HIKESHI_BINARY]       default: build/release/src/app/hikeshi
#
# Environment: INCIDENTS (10000), DURATION (10s per endpoint), CONNECTIONS (16), WRK_THREADS (2),
# SERVER_THREADS (4), BACKENDS ("sqlite postgres"), HIKESHI_BENCH_PG (a running server's superuser
# URL ending in /postgres; default: one started for the run with tests/support/pg_server.sh).
# Not part of ctest. Needs wrk, curl, psql.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HIKESHI=$(realpath "${1:-$ROOT/build/release/src/app/hikeshi}")
INCIDENTS=${INCIDENTS:-10000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-2}
SERVER_THREADS=${SERVER_THREADS:-4}
BACKENDS=${BACKENDS:-sqlite postgres}
for tool in wrk curl psql; do
  command -v "$tool" >/dev/null || { echo "api_latency: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$HIKESHI" ] || { echo "api_latency: no hikeshi binary at $HIKESHI" >&2; exit 1; }

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hikeshi-api-bench-XXXXXX")
# shellcheck source=bench/http_bench_lib.sh
. "$ROOT/bench/http_bench_lib.sh"
trap bench_cleanup EXIT

YEAR=$(date -u +%Y)
RESULTS=()

# Writes a curl config creating INCIDENTS incidents, one request block each.
make_load_config() {
  local port=$1 token=$2 out=$3
  local categories=(malicious-code/infected-system fraud/phishing intrusion-attempts/exploit availability/ddos
    information-gathering/scanner)
  : >"$out"
  for i in $(seq 1 "$INCIDENTS"); do
    local category=${categories[$((i % 5))]}
    printf 'url = "http://127.0.0.1:%s/api/v1/incidents"\nheader = "Authorization: Bearer %s"\n' \
      "$port" "$token" >>"$out"
    printf 'header = "Content-Type: application/json"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' >>"$out"
    printf 'data = "{\\"title\\":\\"Bench incident %d: suspicious traffic from host %d\\",\\"category\\":\\"%s\\",' \
      "$i" "$i" "$category" >>"$out"
    printf '\\"description\\":\\"Loaded by bench/api_latency.sh\\",\\"impact\\":%d,\\"urgency\\":%d}"\n' \
      $((i % 4 + 1)) $(((i / 4) % 4 + 1)) >>"$out"
    if [ "$i" -lt "$INCIDENTS" ]; then printf 'next\n' >>"$out"; fi
  done
}

run_backend() {
  local backend=$1 url="" data="$BENCH_TMP/$1"
  if [ "$backend" = postgres ]; then
    [ -n "$PG_ADMIN" ] || pg_start
    url=$(pg_database hikeshi_api_bench)
  fi
  init_data "$data" "$url"
  local token
  token=$(admin_token "$data" "$url")
  serve "$data" "$url" --threads "$SERVER_THREADS" --change-poll-ms 0
  local port=$SERVE_PORT

  echo "[$backend] loading $INCIDENTS incidents..." >&2
  local start end
  start=$(date +%s.%N)
  make_load_config "$port" "$token" "$BENCH_TMP/load.curl"
  local created
  created=$(curl -sS --no-progress-meter --parallel --parallel-max 8 -K "$BENCH_TMP/load.curl" | grep -c '^201$' || true)
  end=$(date +%s.%N)
  if [ "$created" != "$INCIDENTS" ]; then
    echo "[$backend] only $created of $INCIDENTS incidents were created; see $data/serve.log" >&2
    exit 1
  fi
  local last
  last=$(printf 'I-%s-%06d' "$YEAR" "$INCIDENTS")
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/incidents/$last")
  [ "$status" = 200 ] || { echo "[$backend] $last is missing ($status)" >&2; exit 1; }
  awk -v b="$backend" -v s="$start" -v e="$end" -v n="$INCIDENTS" \
    'BEGIN { printf "[%s] loaded %d incidents in %.1f s\n", b, n, e - s }' >&2

  for mode in list get; do
    local endpoint="GET /api/v1/incidents?limit=50"
    [ "$mode" = get ] && endpoint="GET /api/v1/incidents/{id}"
    echo "[$backend] wrk $endpoint for $DURATION..." >&2
    local line
    line=$(HIKESHI_TOKEN=$token WRK_MODE=$mode HIKESHI_YEAR=$YEAR INCIDENTS=$INCIDENTS \
      wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$ROOT/bench/wrk_api.lua" \
      "http://127.0.0.1:$port/" | grep '^RESULT')
    RESULTS+=("$backend|$endpoint|$line")
  done
  stop_servers
}

for backend in $BACKENDS; do run_backend "$backend"; done

echo
echo "API read latency: $INCIDENTS incidents, wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION, serve --threads $SERVER_THREADS"
printf '| %-8s | %-34s | %8s | %8s | %9s | %s |\n' backend endpoint "p50 ms" "p99 ms" "req/s" "errors"
printf '|%s|%s|%s|%s|%s|%s|\n' ---------- ------------------------------------ ---------- ---------- ----------- --------
for result in "${RESULTS[@]}"; do
  IFS='|' read -r backend endpoint line <<<"$result"
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$line")
  errors=$(sed -n 's/.*errors=\([0-9]*\) non2xx=\([0-9]*\).*/\1 + \2 non-2xx/p' <<<"$line")
  printf '| %-8s | %-34s | %8s | %8s | %9s | %s |\n' "$backend" "$endpoint" "$p50" "$p99" "$rps" "$errors"
done
