#!/bin/sh
# A throwaway PostgreSQL 15 server for the tests (ctest fixture "pg_server").
#
#   pg_server.sh start STATE_DIR   initdb in a fresh temp directory, start postgres on 127.0.0.1 only,
#                                  on a free port, with its Unix socket in the temp directory, and
#                                  write STATE_DIR/pg_conninfo (a superuser conninfo URL) and
#                                  STATE_DIR/pg_server.dir (where the cluster lives).
#   pg_server.sh stop STATE_DIR    stop that server and remove its directory and the two files.
#
# initdb and postgres refuse to run as root, so when run as root they run as the `postgres` system
# user, which owns the temp directory. The superuser gets a random password (md5 over TCP), so the
# tests also exercise password authentication.
set -eu

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
action=${1:-}
state=${2:-}
if [ -z "$action" ] || [ -z "$state" ]; then
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 64
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_server() {
  [ -f "$state/pg_server.dir" ] || return 0
  dir=$(cat "$state/pg_server.dir")
  if [ -d "$dir/data" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  rm -f "$state/pg_server.dir" "$state/pg_conninfo"
}

case "$action" in
  start)
    mkdir -p "$state"
    stop_server  # a server left behind by an interrupted run
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hikeshi-pg-XXXXXX")
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    echo "$dir" >"$state/pg_server.dir"
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/pwfile"; fi
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U hikeshi_test --pwfile="$dir/pwfile" -E UTF8 --locale=C \
      --auth-local=trust --auth-host=md5 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    rm -f "$dir/pwfile"
    # A free port: a random one above the well-known range; postgres refuses to start on a port in use
    # (and stops when it cannot bind), so a clash only costs another attempt.
    started=
    for attempt in 1 2 3 4 5 6 7 8; do
      port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
      if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off" start >/dev/null 2>&1; then
        started=1
        break
      fi
      echo "pg_server.sh: start attempt $attempt on port $port failed" >&2
    done
    if [ -z "$started" ]; then
      cat "$dir/server.log" >&2 || true
      exit 1
    fi
    umask 077
    printf 'postgresql://hikeshi_test:%s@127.0.0.1:%s/postgres\n' "$password" "$port" >"$state/pg_conninfo"
    echo "PostgreSQL test server on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    stop_server
    ;;
  *)
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 64
    ;;
esac
