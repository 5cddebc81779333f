#!/usr/bin/env bash
# Builds a real etcd and kube-apiserver from the Go module proxy into the cache, for the deployer's
# apply/watch tests (tests/deployer/real-apiserver.test.ts). Idempotent: does nothing when both exist.
# Why the detour: `go install k8s.io/kubernetes/cmd/kube-apiserver@vX` is refused because that module
# replaces its k8s.io/* staging modules with local paths; a throwaway module that requires it and
# points every staging module at its published v0.X release builds fine (~8 min on 2 cores, once).
set -euo pipefail
CACHE="${MAAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/maas}"
OUT="$CACHE/kube"
K8S=1.31.4; STAGING=0.31.4; ETCD=3.5.17; ETCD_CLIENT_V2=2.305.17
mkdir -p "$OUT"
export GOFLAGS=-mod=mod
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

retry() { local i; for i in 1 2 3; do "$@" && return 0; echo "retry $i: $*" >&2; sleep $((i * 5)); done; return 1; }

if [[ ! -x "$OUT/kube-apiserver" ]]; then
  mkdir "$work/km" && cd "$work/km"
  go mod init maas.local/kube-apiserver-build >/dev/null 2>&1
  modfile="$(retry go mod download -json "k8s.io/kubernetes@v$K8S" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  echo "require k8s.io/kubernetes v$K8S" >>go.mod
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$modfile" | awk -v s="$STAGING" '{print "replace "$1" => "$1" v"s}' >>go.mod
  printf 'package main\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\nfunc main() {}\n' >tools.go
  retry go mod tidy
  nice -n 10 go build -o "$OUT/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
fi
if [[ ! -x "$OUT/etcd" ]]; then
  mkdir "$work/em" && cd "$work/em"
  go mod init maas.local/etcd-build >/dev/null 2>&1
  echo "require go.etcd.io/etcd/server/v3 v$ETCD" >>go.mod
  for m in api/v3 client/pkg/v3 client/v3 pkg/v3 raft/v3; do echo "replace go.etcd.io/etcd/$m => go.etcd.io/etcd/$m v$ETCD" >>go.mod; done
  echo "replace go.etcd.io/etcd/client/v2 => go.etcd.io/etcd/client/v2 v$ETCD_CLIENT_V2" >>go.mod
  printf 'package main\nimport _ "go.etcd.io/etcd/server/v3/etcdmain"\nfunc main() {}\n' >tools.go
  retry go mod tidy
  nice -n 10 go build -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi
echo "$OUT/kube-apiserver $OUT/etcd"
