#!/usr/bin/env bash
# PostgreSQL: the newest Debian-packaged server, as a project-owned cluster on 127.0.0.1:55432 with
# password auth, superuser maas/maas and database maas. Its own port and data folder keep a system
# instance from interfering. Usage: postgres.sh up|down|status
set -euo pipefail
INFRA_SERVICE=postgres
# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$INFRA_STATE/postgres"
DATA="$DIR/data"
RUN="$DIR/run" # unix socket folder: ours, so /var/run/postgresql need not exist
LOGFILE="$INFRA_LOGS/postgres.log"

# Newest installed major first (Debian layout), then whatever is on PATH (laptops, other distros).
find_bindir() {
  local d
  d=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n1)
  if [[ -n $d ]]; then
    dirname "$d"
  elif command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/postgres" ]]; then
    pg_config --bindir
  fi
}

BINDIR=$(find_bindir)
ensure_installed() {
  if [[ -z $BINDIR ]]; then
    apt_install postgresql
    BINDIR=$(find_bindir)
    [[ -n $BINDIR ]] || die "postgresql installed but no server binary found"
  fi
}

# Postgres refuses to run as root: as root the cluster belongs to the `postgres` system user.
run_as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

healthy() {
  PGPASSWORD=$PG_PASSWORD "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB"
}

psql_maas() {
  PGPASSWORD=$PG_PASSWORD "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$@"
}

init_cluster() {
  log "initdb into $DATA"
  mkdir -p "$DIR" "$RUN"
  local pwfile="$DIR/.pwfile"
  printf '%s\n' "$PG_PASSWORD" >"$pwfile"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "system user postgres missing (it comes with the postgresql package)"
    chown postgres: "$DIR" "$RUN" "$pwfile"
  fi
  run_as_owner "$BINDIR/initdb" -D "$DATA" -U "$PG_USER" --pwfile="$pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$INFRA_LOGS/postgres-initdb.log" 2>&1 \
    || die "initdb failed, see $INFRA_LOGS/postgres-initdb.log"
  rm -f "$pwfile"
  # Only 127.0.0.1 and our own socket folder; small settings suited to a shared development machine.
  cat >>"$DATA/postgresql.conf" <<EOF

# --- maas local infra ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUN'
max_connections = 200
shared_buffers = 128MB
fsync = on
EOF
}

cmd_up() {
  ensure_installed
  mkdir -p "$DIR"
  if healthy; then
    [[ -s $DATA/postmaster.pid ]] && return 0
    # pg_isready does not authenticate: make sure a foreign server really takes our credentials.
    psql_maas -d "$PG_DB" -c 'select 1' >/dev/null 2>&1 \
      || die "port $PG_PORT serves a PostgreSQL that rejects maas/maas (not ours)"
    log "port $PG_PORT already serves a PostgreSQL that accepts maas/maas (not started by us); using it"
    return 0
  fi
  if port_open "$PG_PORT" && [[ ! -s $DATA/postmaster.pid ]]; then
    die "port $PG_PORT is taken by something that is not our PostgreSQL"
  fi
  [[ -s $DATA/PG_VERSION ]] || init_cluster
  if ((EUID == 0)); then
    touch "$LOGFILE"
    chown postgres: "$LOGFILE" "$RUN" 2>/dev/null || true
  fi
  log "starting $("$BINDIR/postgres" --version) on 127.0.0.1:$PG_PORT"
  # pg_ctl -w polls the server until it accepts connections (no fixed sleep); a stale postmaster.pid
  # from a crash is handled by postgres itself.
  run_as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start >/dev/null \
    || die "postgres did not start, see $LOGFILE"
  wait_until 60 "pg_isready on $PG_PORT" healthy || die "postgres not ready, see $LOGFILE"
  if [[ -z $(psql_maas -d postgres -tAc "select 1 from pg_database where datname = '$PG_DB'") ]]; then
    psql_maas -d postgres -c "create database $PG_DB owner $PG_USER" || die "create database $PG_DB failed"
  fi
}

cmd_down() {
  if [[ -s $DATA/postmaster.pid ]] && [[ -n $BINDIR ]]; then
    log "stopping"
    run_as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
}

cmd_status() {
  local version="-" pid="-" health="down"
  [[ -n $BINDIR ]] && version="$("$BINDIR/postgres" --version | awk '{print $3}')"
  [[ -s $DATA/postmaster.pid ]] && pid=$(head -n1 "$DATA/postmaster.pid")
  if [[ -n $BINDIR ]] && healthy; then
    health="healthy"
    [[ $pid == "-" ]] && health="healthy (external)"
  fi
  status_line postgres "$version" "127.0.0.1:$PG_PORT" "$pid" "$health"
  [[ $health == healthy* ]]
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: postgres.sh up|down|status" ;;
esac
