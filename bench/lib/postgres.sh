# Sourced by the Postgres benchmarks: one throwaway Postgres 15 on a free loopback port, and the
# stop of the processes a benchmark started. Needs PY (python3) set by the caller.
#
#   bench_pg_start WORK [postgresql.conf lines...]
#       initdb in WORK/data as the postgres user, logical decoding on, fsync off (as the tests'
#       server), listening on 127.0.0.1 only; sets PGPORT and defines psql (as postgres).
#   bench_stop_pids PID...   SIGTERM, up to 5 s to exit, then SIGKILL.
#   bench_pg_stop WORK       stops the server (fast, else immediate) and removes WORK.

PGBIN=/usr/lib/postgresql/15/bin

bench_free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_pg_start() {
  local work=$1
  shift
  PGPORT=$(bench_free_port)
  chmod 755 "$work"
  chown postgres "$work"
  runuser -u postgres -- "$PGBIN/initdb" -D "$work/data" -U postgres -A trust >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PGPORT"
    echo "unix_socket_directories = '$work'"
    echo "wal_level = logical"
    echo "max_replication_slots = 10"
    echo "max_wal_senders = 10"
    echo "fsync = off"
    echo "full_page_writes = off"
    printf '%s\n' "$@"
  } >>"$work/data/postgresql.conf"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start >/dev/null
}

psql() { "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres "$@"; }

bench_stop_pids() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  for p in "$@"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  return 0
}

bench_pg_stop() {
  local work=$1
  if [ -f "$work/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
      runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1
  fi
  rm -rf "$work"
}
