#!/usr/bin/env bash
# Mail intake through the real LMTP listener (issue 3): `hikeshi serve --lmtp` on a fresh SQLite data
# directory takes MESSAGES generated report mails (mail_bench --emit: plain, multipart with an
# attachment, ISO-2022-JP) from bench/lmtp_load over 1, 4, 8 and 16 concurrent LMTP sessions, as an
# MTA delivers. Each message is answered 250 only after its commit (WAL, synchronous=FULL). Twice:
# with the default triage rules of `hikeshi init` (the bench's mails speak of phishing, so three in
# four open a P2 incident with the phishing playbook's six tasks, in the same transaction), and with
# no triage rules (storing, threading and acknowledging only). The floor in the same run: the same
# client against Hikeshi's LMTP listener with a delivery that stores nothing (lmtp_load --sink).
# The stored reports and opened incidents are then counted with the sqlite3 shell.
#
#   bench/lmtp_bench.sh [BUILD_DIR]      default: build/release (needs -DHIKESHI_BENCH=ON)
#
# Environment: MESSAGES (3000), CONNECTIONS ("1 4 8 16"). Not part of ctest. Needs sqlite3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(realpath "${1:-$ROOT/build/release}")
HIKESHI="$BUILD/src/app/hikeshi"
MESSAGES=${MESSAGES:-3000}
CONNECTIONS=${CONNECTIONS:-1 4 8 16}
for tool in "$HIKESHI" "$BUILD/bench/lmtp_load" "$BUILD/bench/mail_bench"; do
  [ -x "$tool" ] || { echo "lmtp_bench: $tool is missing (cmake -DHIKESHI_BENCH=ON, build hikeshi lmtp_load mail_bench)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "lmtp_bench: sqlite3 is missing (scripts/install-deps.sh)" >&2; exit 1; }

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hikeshi-lmtp-bench-XXXXXX")
# shellcheck source=bench/http_bench_lib.sh
. "$ROOT/bench/http_bench_lib.sh"
trap bench_cleanup EXIT

"$BUILD/bench/mail_bench" --emit "$BENCH_TMP/mail" --messages "$MESSAGES" >/dev/null
echo "$MESSAGES messages, $(du -sh "$BENCH_TMP/mail" | cut -f1) on disk; $(nproc) cores"
echo
echo "| LMTP sessions at once | floor: listener storing nothing | serve --lmtp, default triage rules | reports / incidents (sqlite3) | serve --lmtp, no triage rules | reports / incidents (sqlite3) |"
echo "|---|---|---|---|---|---|"
# Delivers the messages over N sessions to a fresh data directory; sets RESULT to
# "RATE|REPORTS / INCIDENTS" (not a command substitution: the node must be this shell's child).
run_serve() {
  local n=$1 rules=$2 data="$BENCH_TMP/data-$1-$2"
  RESULT=""
  init_data "$data" ""
  [ "$rules" = none ] && echo "# no rules: triage decides nothing" >"$data/triage.toml"
  serve "$data" "" --lmtp 127.0.0.1:0 --lmtp-workers 16
  local line
  line=$("$BUILD/bench/lmtp_load" "$(cat "$data/port.lmtp")" "$BENCH_TMP/mail" "$n") || {
    echo "lmtp_bench: not every message was stored: $line; see $data/serve.log" >&2
    exit 1
  }
  stop_servers
  RESULT="$(echo "$line" | sed -E 's/.* ([0-9]+) messages\/s$/\1/')|$(sqlite3 "$data/hikeshi.db" \
    "SELECT (SELECT count(*) FROM reports WHERE channel = 'mail') || ' / ' || (SELECT count(*) FROM incidents)")"
}
for n in $CONNECTIONS; do
  floor=$("$BUILD/bench/lmtp_load" --sink "$BENCH_TMP/mail" "$n" | sed -E 's/.* ([0-9]+) messages\/s$/\1/')
  run_serve "$n" default
  with=$RESULT
  run_serve "$n" none
  without=$RESULT
  echo "| $n | $floor messages/s | **${with%%|*} messages/s** | ${with#*|} | **${without%%|*} messages/s** | ${without#*|} |"
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
