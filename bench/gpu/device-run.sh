#!/usr/bin/env bash
# Second call on the lent GPU machine (carry .gpu/b, after device-prep.sh on the same warm machine):
# node, the bundle and the provider libraries put together, then bench/gpu.ts (bundled) writes
# $OUT/gpu.json. See bench/gpu/README.md.
set -euo pipefail
g=/opt/maas-gpu
test -f $g/libonnxruntime_providers_cuda.so || { echo "run bench/gpu/device-prep.sh first (same machine)"; exit 3; }
xz -dc .gpu/b/node.xz >$g/node && chmod +x $g/node
rm -rf $g/app && mkdir -p $g/app && xz -dc .gpu/b/app.tar.xz | tar -C $g/app -xf -
bin=$g/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
xz -dc .gpu/b/libonnxruntime.so.1.xz >$bin/libonnxruntime.so.1
cp $g/libonnxruntime_providers_cuda.so $g/libonnxruntime_providers_shared.so $bin/
# The pip CUDA 13 / cuDNN 9 libraries (torch's venv) for the provider library's NEEDED entries.
LD_LIBRARY_PATH=$(find /opt /usr \( -name 'libcudart.so.13' -o -name 'libcudnn.so.9' -o -name 'libcublasLt.so.13' \
  -o -name 'libcurand.so.10' -o -name 'libcufft.so.12' \) 2>/dev/null | xargs -r -n1 dirname | sort -u | paste -sd:)
export LD_LIBRARY_PATH PATH=$g:$PATH
echo "node $(node --version); LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
ldd $bin/libonnxruntime_providers_cuda.so | grep -E 'not found|cublas|cudart|curand' || true
export GPU_BENCH_OUT=$OUT/gpu.json GPU_BENCH_INFERENCE_MAIN=$g/app/inference/main.js
export GPU_BENCH_COMMAND="bash bench/gpu/device-run.sh (bundled bench/gpu.ts on the lent GPU machine)"
node $g/app/gpu.js 2>&1 | tee $OUT/gpu-log.txt
