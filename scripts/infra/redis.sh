#!/usr/bin/env bash
# Redis from the Debian package, our own instance on 127.0.0.1:56379 with its data under .local/infra.
# Usage: redis.sh up|down|status
set -euo pipefail
INFRA_SERVICE=redis
# shellcheck source=scripts/infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$INFRA_STATE/redis"
PIDFILE="$DIR/redis.pid"
LOGFILE="$INFRA_LOGS/redis.log"

healthy() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

cmd_up() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt_install redis-server redis-tools
  fi
  if healthy; then
    pid_alive "$PIDFILE" || log "port $REDIS_PORT already serves Redis (not started by us); using it"
    return 0
  fi
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that is not Redis"
  mkdir -p "$DIR"
  log "starting $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT"
  # Snapshots into our folder only; protected mode stays on (we bind 127.0.0.1 anyway).
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$PIDFILE" \
    --logfile "$LOGFILE" --dir "$DIR" --save 60 1000 --appendonly no \
    || die "redis-server failed to start, see $LOGFILE"
  wait_until 30 "redis-cli ping on $REDIS_PORT" healthy || die "redis not ready, see $LOGFILE"
}

cmd_down() {
  if pid_alive "$PIDFILE"; then
    log "stopping"
    stop_pid "$PIDFILE" 30
  fi
}

cmd_status() {
  local version="-" pid="-" health="down"
  command -v redis-server >/dev/null 2>&1 && version=$(redis-server --version | awk '{print $3}' | sed 's/^v=//')
  pid_alive "$PIDFILE" && pid=$(pid_of "$PIDFILE")
  if command -v redis-cli >/dev/null 2>&1 && healthy; then
    health="healthy"
    [[ $pid == "-" ]] && health="healthy (external)"
  fi
  status_line redis "$version" "127.0.0.1:$REDIS_PORT" "$pid" "$health"
  [[ $health == healthy* ]]
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: redis.sh up|down|status" ;;
esac
