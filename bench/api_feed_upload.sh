#!/usr/bin/env bash
# One feed file through `POST /api/v1/events` (curl uploading it to a `hikeshi serve` on the
# embedded SQLite store), against the baseline of the same file through `hikeshi ingest feed` in the
# same run: wall time, events per second, and the largest resident set of the process that ingests
# (the server's VmHWM, the CLI's maximum RSS). The file is Suricata EVE from `feed_bench --emit`;
# each measure starts from a fresh data directory, and the stored event count is checked.
#
#   bench/api_feed_upload.sh [BUILD_DIR]      default: build/release (needs hikeshi and feed_bench)
#
# Environment: EVENTS (2000000), SOURCES (500), ROUNDS (2: CLI then API, repeated). Not part of
# ctest. Needs curl and GNU time (/usr/bin/time).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(realpath "${1:-$ROOT/build/release}")
HIKESHI="$BUILD/src/app/hikeshi"
FEED_BENCH="$BUILD/bench/feed_bench"
EVENTS=${EVENTS:-2000000}
SOURCES=${SOURCES:-500}
ROUNDS=${ROUNDS:-2}
for tool in curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "api_feed_upload: $tool is missing" >&2; exit 1; }
done
for binary in "$HIKESHI" "$FEED_BENCH"; do
  [ -x "$binary" ] || { echo "api_feed_upload: no $binary (build with -DHIKESHI_BENCH=ON)" >&2; exit 1; }
done

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hikeshi-upload-bench-XXXXXX")
# shellcheck source=bench/http_bench_lib.sh
. "$ROOT/bench/http_bench_lib.sh"
trap bench_cleanup EXIT

FEED="$BENCH_TMP/eve.json"
"$FEED_BENCH" --emit "$EVENTS" "$SOURCES" >"$FEED"
echo "feed: $EVENTS events from $SOURCES sources, $(stat -c %s "$FEED") bytes"
echo
echo "| round | hikeshi ingest feed FILE | max RSS | curl -T FILE POST /api/v1/events | server max RSS | API / CLI |"
echo "|---|---|---|---|---|---|"

stored() {
  sqlite3 "$1/hikeshi.db" "SELECT count(*) FROM events"
}

for round in $(seq 1 "$ROUNDS"); do
  data="$BENCH_TMP/cli"
  rm -rf "$data"
  init_data "$data" ""
  /usr/bin/time -f "%e %M" -o "$BENCH_TMP/cli.time" \
    "$HIKESHI" ingest feed --data "$data" --format suricata-eve --quiet "$FEED" >/dev/null
  read -r cli_s cli_kib <"$BENCH_TMP/cli.time"
  [ "$(stored "$data")" = "$EVENTS" ] || { echo "api_feed_upload: the CLI stored $(stored "$data") events" >&2; exit 1; }
  rm -rf "$data"

  data="$BENCH_TMP/api"
  rm -rf "$data"
  init_data "$data" ""
  token=$(admin_token "$data" "")
  serve "$data" ""
  pid=${SERVER_PIDS[-1]}
  result=$(curl -sS -X POST -o "$BENCH_TMP/run.json" -w '%{http_code} %{time_total}' \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' -T "$FEED" \
    "http://127.0.0.1:$SERVE_PORT/api/v1/events?format=suricata-eve&source=upload-bench")
  read -r code api_s <<<"$result"
  server_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
  stop_servers
  [ "$code" = 200 ] || { echo "api_feed_upload: HTTP $code: $(cat "$BENCH_TMP/run.json")" >&2; exit 1; }
  [ "$(stored "$data")" = "$EVENTS" ] || { echo "api_feed_upload: the API stored $(stored "$data") events" >&2; exit 1; }
  rm -rf "$data"

  awk -v r="$round" -v n="$EVENTS" -v cs="$cli_s" -v ck="$cli_kib" -v as="$api_s" -v ak="$server_kib" 'BEGIN {
    printf "| %d | %.2f s (%.0f events/s) | %.0f MiB | %.2f s (%.0f events/s) | %.0f MiB | %.2f |\n",
      r, cs, n / cs, ck / 1024, as, n / as, ak / 1024, cs / as
  }'
done
