#!/usr/bin/env bash
# MinIO (S3 API) on 127.0.0.1:59000, console on 59001, built once with `go install` at a pinned
# version into the cache. Creates the bucket maas-models. Usage: minio.sh up|down|status
set -euo pipefail
INFRA_SERVICE=minio
# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# MinIO tags its releases RELEASE.<date>, which Go modules do not see as versions: the module proxy
# only serves pseudo-versions. This one is commit 7aac2a2c5b7c of 2026-02-12 (proxy's @latest).
MINIO_VERSION="${MAAS_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
BINDIR="$MAAS_CACHE/minio/$MINIO_VERSION"
BIN="$BINDIR/minio"
DIR="$INFRA_STATE/minio"
PIDFILE="$DIR/minio.pid"
LOGFILE="$INFRA_LOGS/minio.log"

healthy() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$MINIO_PORT/minio/health/ready"; }

# A large build (several minutes on two cores), done once per version; the Go module and build caches
# make a rebuild after a cache wipe cheaper.
ensure_binary() {
  [[ -x $BIN ]] && return 0
  command -v go >/dev/null 2>&1 || die "go not found: MinIO is built with 'go install' (needs Go >= 1.24)"
  mkdir -p "$BINDIR"
  log "building github.com/minio/minio@$MINIO_VERSION with go install (once; takes minutes)"
  local started=$SECONDS
  # -mod=mod: resolve MinIO's own go.mod as published; GOBIN puts the binary straight into the cache.
  retry 3 env GOBIN="$BINDIR.tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install "github.com/minio/minio@$MINIO_VERSION" >"$INFRA_LOGS/minio-build.log" 2>&1 \
    || die "go install minio failed, see $INFRA_LOGS/minio-build.log"
  mv "$BINDIR.tmp/minio" "$BIN" && rmdir "$BINDIR.tmp"
  log "built MinIO in $((SECONDS - started))s"
}

ensure_bucket() {
  S3_ENDPOINT="http://127.0.0.1:$MINIO_PORT" S3_ACCESS_KEY_ID=$MINIO_ROOT_USER \
    S3_SECRET_ACCESS_KEY=$MINIO_ROOT_PASSWORD node_ts "$INFRA_ROOT/scripts/infra/ensure-bucket.ts" "$MINIO_BUCKET" \
    || die "could not create bucket $MINIO_BUCKET"
}

cmd_up() {
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  if healthy; then
    pid_alive "$PIDFILE" || log "port $MINIO_PORT already serves MinIO (not started by us); using it"
    ensure_bucket
    return 0
  fi
  if pid_alive "$PIDFILE"; then
    # Ours, still booting: wait for it rather than start a second server on the same folder.
    wait_until 60 "MinIO health on $MINIO_PORT" healthy || die "minio (pid $(pid_of "$PIDFILE")) not ready, see $LOGFILE"
    ensure_bucket
    return 0
  fi
  port_open "$MINIO_PORT" && die "port $MINIO_PORT is taken by something that is not a ready MinIO"
  ensure_binary
  mkdir -p "$DIR/data"
  log "starting MinIO $MINIO_VERSION on 127.0.0.1:$MINIO_PORT (console $MINIO_CONSOLE_PORT)"
  # setsid: the server outlives this shell; the pid file is how `down` finds it.
  MINIO_ROOT_USER=$MINIO_ROOT_USER MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD MINIO_UPDATE=off \
    MINIO_BROWSER_REDIRECT=off setsid nohup "$BIN" server --quiet --anonymous \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
    "$DIR/data" >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  echo "$MINIO_VERSION" >"$DIR/version"
  wait_until 60 "MinIO /minio/health/ready on $MINIO_PORT" healthy || die "minio not ready, see $LOGFILE"
  ensure_bucket
}

cmd_down() {
  if pid_alive "$PIDFILE"; then
    log "stopping"
    stop_pid "$PIDFILE" 30
  fi
}

cmd_status() {
  local version="-" pid="-" health="down"
  [[ -x $BIN ]] && version="$MINIO_VERSION"
  [[ -s $DIR/version ]] && version=$(cat "$DIR/version")
  pid_alive "$PIDFILE" && pid=$(pid_of "$PIDFILE")
  if command -v curl >/dev/null 2>&1 && healthy; then
    health="healthy"
    [[ $pid == "-" ]] && health="healthy (external)"
  fi
  # The pseudo-version is long: print the commit date and hash part only.
  status_line minio "${version#v0.0.0-}" "127.0.0.1:$MINIO_PORT" "$pid" "$health"
  [[ $health == healthy* ]]
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: minio.sh up|down|status" ;;
esac
