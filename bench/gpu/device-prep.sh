#!/usr/bin/env bash
# First call on the lent GPU machine (carry .gpu/a): GPU facts, where the pip CUDA 13 libraries are,
# and the CUDA provider unpacked to /opt/maas-gpu. See bench/gpu/README.md.
set -euo pipefail
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
mkdir -p /opt/maas-gpu
xz -dc .gpu/a/libonnxruntime_providers_cuda.so.xz >/opt/maas-gpu/libonnxruntime_providers_cuda.so
cp .gpu/a/libonnxruntime_providers_shared.so /opt/maas-gpu/
ls -la /opt/maas-gpu
find /opt /usr \( -name 'libcudart.so.13*' -o -name 'libcudnn.so.9*' -o -name 'libcublasLt.so.13*' \
  -o -name 'libcurand.so.10*' -o -name 'libcufft.so.12*' \) 2>/dev/null | sort
