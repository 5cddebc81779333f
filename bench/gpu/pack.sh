#!/usr/bin/env bash
# Packs what bench/gpu.ts needs on the lent GPU machine (which has no node and no network) into .gpu/,
# a folder .git/info/exclude ignores, in two parts that each travel under the device tool's 64 MiB:
#   .gpu/a: the CUDA provider library (sm_90 cubins only, xz) + libonnxruntime_providers_shared.so
#   .gpu/b: node, libonnxruntime.so.1, the bundled bench + inference function (tar), all xz
# (xz, not zstd: the GPU machine has xz but no zstd)
# usage: bash bench/gpu/pack.sh [onnxruntime_gpu-1.30.0-…whl] [sm list, default 90]
set -euo pipefail
cd "$(dirname "$0")/../.."
wheel=${1:-/tmp/ortgpu/onnxruntime_gpu-1.30.0-cp312-cp312-manylinux_2_28_x86_64.whl}
archs=${2:-90}
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
rm -rf .gpu/a .gpu/b .gpu/src
mkdir -p .gpu/a .gpu/b .gpu/src

unzip -q -o -j "$wheel" onnxruntime/capi/libonnxruntime_providers_cuda.so \
  onnxruntime/capi/libonnxruntime_providers_shared.so -d .gpu/src
python3 bench/gpu/fatbin-keep-arch.py .gpu/src/libonnxruntime_providers_cuda.so .gpu/src/cuda-kept.so "$archs"
xz -9 -T2 -c .gpu/src/cuda-kept.so >.gpu/a/libonnxruntime_providers_cuda.so.xz
cp .gpu/src/libonnxruntime_providers_shared.so .gpu/a/

pnpm exec tsx bench/gpu/bundle.ts .gpu/app
lib=.gpu/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
xz -9 -T2 -c "$lib" >.gpu/b/libonnxruntime.so.1.xz
rm "$lib"
tar -C .gpu/app -cf - . | xz -9 -T2 >.gpu/b/app.tar.xz
xz -9 -T2 -c "$(command -v node)" >.gpu/b/node.xz
(cd .gpu && sha256sum a/* b/* >SHA256SUMS && du -b a b a/* b/*)
