# syntax=docker/dockerfile:1.7
# The inference function with onnxruntime-node's CUDA execution provider, on NVIDIA's CUDA runtime:
#   docker buildx build -f docker/inference-cuda.Dockerfile -t ghcr.io/<owner>/inference:<tag>-cuda .
# onnxruntime-node 1.30 ships the CPU library in its npm package; its install script adds the CUDA 12
# provider libraries when ONNXRUNTIME_NODE_INSTALL=cuda12 (script/install-utils.js parseInstallFlag).
# ORT 1.30's CUDA EP needs CUDA 12.x and cuDNN 9, which the cudnn-runtime image provides.

ARG NODE_VERSION=24.21.0
ARG DEBIAN_RELEASE=bookworm
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS builder
ARG PNPM_VERSION=10.34.8
# Skipped during `pnpm install`: the CUDA libraries go into the bundle's copy below, not the store.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    CI=true \
    PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH
RUN npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"
WORKDIR /src
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store && pnpm fetch --frozen-lockfile
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store && pnpm install --frozen-lockfile --offline
RUN pnpm exec tsx scripts/bundle/build.ts inference --install copy
# Fetches libonnxruntime_providers_{cuda,shared,tensorrt}.so (NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux,
# same version) into the bundle's onnxruntime-node, and fails the build if they did not arrive.
WORKDIR /src/dist/bundles/inference/node_modules/onnxruntime-node
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js \
    && test -f bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

FROM debian:${DEBIAN_RELEASE}-slim AS tini
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node

FROM ${CUDA_IMAGE} AS runtime
LABEL org.opencontainers.image.source="https://github.com/maas-platform/maas" \
      org.opencontainers.image.description="MaaS inference function, CUDA execution provider" \
      org.opencontainers.image.licenses="UNLICENSED"
# Node's official binary is self-contained apart from glibc and libstdc++, both in the CUDA image.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# Static tini: the Ubuntu base needs no apt layer for it.
COPY --from=tini /usr/bin/tini-static /usr/bin/tini
ENV NODE_ENV=production \
    PORT=8080 \
    FUNCTION_NAME=inference \
    DEVICE=gpu \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /app
COPY --from=builder --chown=root:root /src/dist/bundles/inference/ ./
# Ubuntu 24.04's `ubuntu` user (uid 1000), the same uid as the CPU images.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "main.js"]
