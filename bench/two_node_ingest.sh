#!/usr/bin/env bash
# Feed ingest through two `hikeshi serve` nodes on one PostgreSQL database, compared with the same
# events through one node (issue 7), in the same run. The events (Suricata EVE alerts) are cut into
# POST /api/v1/events bodies of BATCH events, posted by CLIENTS concurrent clients; with one node
# every client posts to it, with two nodes the clients alternate between them. Each measure starts
# from a fresh database and ends when the last POST is answered (each answer means committed); the
# stored event count is checked against what was sent.
#
#   bench/two_node_ingest.sh [HIKESHI_BINARY]       default: build/release/src/app/hikeshi
#
# Environment: EVENTS (200000), BATCH (5000), CLIENTS (4), SERVER_THREADS (4), ROUNDS (3: one node,
# two nodes, one node, two nodes..., so that neither always runs first), HIKESHI_BENCH_PG (a
# running server's superuser URL ending in /postgres; default: one started for the run with
# tests/support/pg_server.sh). Not part of ctest. Needs curl and psql.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HIKESHI=$(realpath "${1:-$ROOT/build/release/src/app/hikeshi}")
EVENTS=${EVENTS:-200000}
BATCH=${BATCH:-5000}
CLIENTS=${CLIENTS:-4}
SERVER_THREADS=${SERVER_THREADS:-4}
ROUNDS=${ROUNDS:-3}
for tool in curl psql; do
  command -v "$tool" >/dev/null || { echo "two_node_ingest: $tool is missing" >&2; exit 1; }
done
[ -x "$HIKESHI" ] || { echo "two_node_ingest: no hikeshi binary at $HIKESHI" >&2; exit 1; }

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hikeshi-ingest-bench-XXXXXX")
# shellcheck source=bench/http_bench_lib.sh
. "$ROOT/bench/http_bench_lib.sh"
trap bench_cleanup EXIT
pg_start

# The feed: EVENTS alerts from 100 scanning hosts (so 100 aggregate reports, as in
# bench/pg_feed_bench.cpp), one file per POST.
mkdir -p "$BENCH_TMP/feed"
awk -v n="$EVENTS" -v batch="$BATCH" -v dir="$BENCH_TMP/feed" 'BEGIN {
  for (i = 0; i < n; i++) {
    file = sprintf("%s/%06d.json", dir, int(i / batch));
    printf "{\"timestamp\":\"2026-11-27T%02d:%02d:%02d.000000+0000\",\"flow_id\":%d,\"event_type\":\"alert\",", \
      int(i / 3600) % 24, int(i / 60) % 60, i % 60, 1000000000 + i >> file;
    printf "\"src_ip\":\"10.0.0.%d\",\"src_port\":%d,\"dest_ip\":\"192.0.2.7\",\"dest_port\":22,\"proto\":\"TCP\",", \
      i % 100, 1024 + i % 60000 >> file;
    printf "\"alert\":{\"signature_id\":2001219,\"signature\":\"ET SCAN Potential SSH Scan\",\"category\":" >> file;
    printf "\"Attempted Information Leak\",\"severity\":2}}\n" >> file;
  }
}'
FILES=("$BENCH_TMP"/feed/*.json)

# Posts every file, client c taking files c, c+CLIENTS, ... to the node PORTS[c % #PORTS].
post_all() {
  local token=$1
  shift
  local ports=("$@")
  local pids=()
  for c in $(seq 0 $((CLIENTS - 1))); do
    (
      port=${ports[$((c % ${#ports[@]}))]}
      for ((f = c; f < ${#FILES[@]}; f += CLIENTS)); do
        status=$(curl -sS -o "$BENCH_TMP/response.$c" -w '%{http_code}' -H "Authorization: Bearer $token" \
          -H 'Content-Type: application/x-ndjson' --data-binary @"${FILES[$f]}" \
          "http://127.0.0.1:$port/api/v1/events?format=suricata-eve")
        if [ "$status" != 200 ]; then
          echo "POST to $port answered $status: $(cat "$BENCH_TMP/response.$c")" >&2
          exit 1
        fi
      done
    ) &
    pids+=($!)
  done
  local failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}

RESULTS=()
measure() {
  local nodes=$1 round=$2 url data_a="$BENCH_TMP/a$1-$2" data_b="$BENCH_TMP/b$1-$2"
  url=$(pg_database "hikeshi_ingest_bench_${nodes}_$round")
  init_data "$data_a" "$url"
  local token
  token=$(admin_token "$data_a" "$url")
  local flags=(--threads "$SERVER_THREADS" --max-body-bytes 16777216 --change-poll-ms 0)
  serve "$data_a" "$url" "${flags[@]}"
  local ports=("$SERVE_PORT")
  if [ "$nodes" = 2 ]; then
    # The second node: the same configuration and keys, its own directory.
    cp -a "$data_a" "$data_b"
    rm -f "$data_b"/gnupg/S.gpg-agent* "$data_b/port" "$data_b/serve.log"
    serve "$data_b" "$url" "${flags[@]}"
    ports+=("$SERVE_PORT")
  fi
  echo "[round $round, $nodes node(s)] posting $EVENTS events in ${#FILES[@]} bodies from $CLIENTS clients..." >&2
  local start end
  start=$(date +%s.%N)
  post_all "$token" "${ports[@]}"
  end=$(date +%s.%N)
  local stored
  stored=$(psql -tA "$url" -c "SELECT count(*) FROM events")
  stop_servers
  if [ "$stored" != "$EVENTS" ]; then
    echo "[$nodes node(s)] $stored events stored, $EVENTS sent" >&2
    exit 1
  fi
  RESULTS+=("$round|$nodes|$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')")
}

for round in $(seq 1 "$ROUNDS"); do
  measure 1 "$round"
  measure 2 "$round"
done

echo
echo "Feed ingest on PostgreSQL: $EVENTS Suricata alerts (100 sources), POST /api/v1/events bodies of $BATCH,"
echo "$CLIENTS concurrent clients, serve --threads $SERVER_THREADS"
printf '| %-5s | %-22s | %9s | %9s | %s |\n' round nodes seconds events/s "events/s vs one node"
printf '|%s|%s|%s|%s|%s|\n' ------- ------------------------ ----------- ----------- ----------------------
one_seconds=""
for result in "${RESULTS[@]}"; do
  IFS='|' read -r round nodes seconds <<<"$result"
  [ "$nodes" = 1 ] && one_seconds=$seconds
  awk -v r="$round" -v n="$nodes" -v s="$seconds" -v e="$EVENTS" -v one="$one_seconds" \
    'BEGIN { printf "| %-5s | %-22s | %9.2f | %9.0f | %.2f |\n", r, n " (" (n == 1 ? "all to A" : "alternating A/B") ")", s, e / s, one / s }'
done
# Over all rounds: events/s from the summed times, which evens out a round disturbed by other load.
printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v e="$EVENTS" '
  { t[$2] += $3; n[$2]++ }
  END { printf "all rounds: one node %.0f events/s, two nodes %.0f events/s, ratio %.2f\n",
        e * n[1] / t[1], e * n[2] / t[2], (e * n[2] / t[2]) / (e * n[1] / t[1]) }'
