#!/usr/bin/env bash
# Local PostgreSQL, Redis, Kafka and MinIO without Docker: `pnpm infra up|down|status [service…]`.
# Idempotent (a second `up` only checks health), bound to 127.0.0.1, state and logs in .local/infra,
# downloads and builds cached in $MAAS_CACHE. One script per service beside this file.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/infra/lib.sh
. "$HERE/lib.sh"

ALL=(postgres redis kafka minio)

usage() {
  cat >&2 <<EOF
usage: pnpm infra up|down|status [service…]     services: ${ALL[*]}
  up      start what is not running (installs/builds once), wait for health, create topics and bucket
  down    stop what 'up' started (pid files in .local/infra); data stays
  status  one line per service: version, endpoint, pid, health (exit 1 if any is not healthy)
EOF
  exit 2
}

cmd=${1:-}
shift || true
services=("$@")
((${#services[@]})) || services=("${ALL[@]}")
for s in "${services[@]}"; do
  [[ " ${ALL[*]} " == *" $s "* ]] || usage
done

# Two `up`s at once (two terminals, two test runs) would both see "not running" and start twice:
# up and down take a lock and run one after the other; the second then finds everything healthy.
# The service scripts run with fd 9 closed: the daemons they start must not inherit (and hold) the lock.
lock() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$INFRA_STATE/.lock"
  flock -n 9 && return 0
  log "another infra up/down is running; waiting for it"
  flock -w 1200 9 || die "timed out waiting for the other infra up/down"
}

selected() { [[ " ${services[*]} " == *" $1 "* ]]; }

print_status() {
  local rc=0
  status_line SERVICE VERSION ENDPOINT PID HEALTH
  for s in "${services[@]}"; do bash "$HERE/$s.sh" status || rc=1; done
  return "$rc"
}

case "$cmd" in
  up)
    lock
    started=$SECONDS
    # Debian packages first, one after the other (apt/dpkg take a lock).
    for s in postgres redis; do
      if selected "$s"; then bash "$HERE/$s.sh" up 9>&-; fi
    done
    # Kafka (Maven, JVM start) and MinIO (go build) share nothing: bring them up side by side.
    pids=()
    for s in kafka minio; do
      if selected "$s"; then
        bash "$HERE/$s.sh" up 9>&- &
        pids+=($!)
      fi
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    ((failed == 0)) || die "some services did not come up (logs in $INFRA_LOGS)"
    print_status
    log "up in $((SECONDS - started))s"
    ;;
  down)
    lock
    for ((i = ${#ALL[@]} - 1; i >= 0; i--)); do
      s=${ALL[i]}
      if selected "$s"; then bash "$HERE/$s.sh" down 9>&-; fi
    done
    print_status >/dev/null || true
    log "down"
    ;;
  status) print_status ;;
  *) usage ;;
esac
