#!/usr/bin/env bash
# Shared helpers for the local infrastructure scripts: paths, logging, retry with backoff,
# health waits and pid files. Sourced by infra.sh and by each service script.
# shellcheck disable=SC2034 # the variables below are used by the scripts that source this file

INFRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Runtime state (data, pid files, logs) lives in the checkout, ignored by git.
INFRA_STATE="${MAAS_INFRA_STATE:-$INFRA_ROOT/.local/infra}"
INFRA_LOGS="$INFRA_STATE/logs"
# Downloads and builds are cached outside the checkout so a fresh clone on the same machine reuses them.
MAAS_CACHE="${MAAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/maas}"
export MAAS_CACHE

# The ports mirror packages/config/src/infra.ts (defaultInfra); keep both in step.
PG_PORT=55432
PG_USER=maas
PG_PASSWORD=maas
PG_DB=maas
REDIS_PORT=56379
KAFKA_PORT=59092
KAFKA_CONTROLLER_PORT=59093
MINIO_PORT=59000
MINIO_CONSOLE_PORT=59001
MINIO_ROOT_USER=maasadmin
MINIO_ROOT_PASSWORD=maasadmin-secret
MINIO_BUCKET=maas-models
KAFKA_TOPICS="maas.events:6 maas.usage:12 maas.dlq:3"

mkdir -p "$INFRA_STATE" "$INFRA_LOGS" "$MAAS_CACHE"

log() { printf '%s infra[%s] %s\n' "$(date +%H:%M:%S)" "${INFRA_SERVICE:-main}" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# retry N cmd...: registry downloads fail now and then; back off 2, 4, 8… seconds between tries.
retry() {
  local n=$1 i=1 delay=2
  shift
  until "$@"; do
    if ((i >= n)); then
      log "giving up after $n tries: $*"
      return 1
    fi
    log "try $i/$n failed, retrying in ${delay}s: $*"
    sleep "$delay"
    i=$((i + 1))
    delay=$((delay * 2))
  done
}

# wait_until TIMEOUT_S DESCRIPTION cmd...: polls a health check (never a fixed sleep) until it passes.
# The poll interval starts at 50 ms so a service that is already up costs almost nothing.
wait_until() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout)) delay=0.05
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep "$delay"
    case $delay in 0.05) delay=0.1 ;; 0.1) delay=0.2 ;; 0.2) delay=0.5 ;; esac
  done
}

# pid_alive PIDFILE: the pid recorded by `up` still runs (and is not a recycled zombie).
pid_alive() {
  local pidfile=$1 pid
  [[ -s $pidfile ]] || return 1
  pid=$(head -n1 "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ $(ps -o stat= -p "$pid" 2>/dev/null) != Z* ]]
}

pid_of() { [[ -s $1 ]] && head -n1 "$1" || echo "-"; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT (bash's /dev/tcp, no netcat needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stop_pid PIDFILE [TIMEOUT_S]: TERM the process `up` started, wait for it to exit, KILL as a last resort.
stop_pid() {
  local pidfile=$1 timeout=${2:-30} pid
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(head -n1 "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$timeout" "pid $pid to exit" bash -c "! kill -0 $pid 2>/dev/null"; then
    log "pid $pid did not stop after ${timeout}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# as_root cmd...: apt-get needs root; use sudo when we are not root and it exists.
as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (install it yourself, or run as root)"
  fi
}

APT_UPDATED=""
# apt_install PKG...: install Debian packages when a binary is missing (apt-get update once per run).
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your package manager"
  if [[ -z $APT_UPDATED ]]; then
    retry 3 as_root apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "installing $* from Debian packages"
  retry 3 as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get install $* failed"
}

# status_line NAME VERSION ENDPOINT PID HEALTH: one aligned row of `infra status`.
status_line() { printf '%-9s %-28s %-16s %-8s %s\n' "$@"; }

# node_ts SCRIPT ARGS...: run one of the small TypeScript helpers with the workspace's tsx.
node_ts() {
  local tsx="$INFRA_ROOT/node_modules/.bin/tsx"
  [[ -x $tsx ]] || die "tsx not found: run ./dev infra … (it installs the workspace) or pnpm install"
  # The project's Node 24 (bootstrap.sh puts it in .tools/) even when called from a shell without it.
  # kafkajs 2.x trips Node 24's TimeoutNegativeWarning on every run; it is harmless noise here.
  PATH="$INFRA_ROOT/.tools/node/bin:$PATH" NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning" \
    "$tsx" "$@"
}
