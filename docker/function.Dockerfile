# syntax=docker/dockerfile:1.7
# One image per function, one Dockerfile for all of them:
#   docker buildx build -f docker/function.Dockerfile --build-arg FUNCTION=gateway -t ghcr.io/<owner>/gateway .
# The builder bundles functions/<FUNCTION>/src/main.ts with scripts/bundle (workspace packages export
# TypeScript source, which plain node cannot run, so `pnpm deploy` alone would need tsx at run time);
# the runtime stage gets only the bundle folder: main.js, its worker files, and the few external
# packages (onnxruntime-node for inference) copied from the builder's lockfile install.

ARG NODE_VERSION=24.21.0
ARG DEBIAN_RELEASE=bookworm

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS builder
ARG PNPM_VERSION=10.34.8
# onnxruntime-node's install script would fetch CUDA libraries; the CPU image never needs them.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    CI=true \
    PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH
RUN npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"
WORKDIR /src
# Lockfile first: `pnpm fetch` fills the store from it alone, so this layer survives source edits.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store && pnpm fetch --frozen-lockfile
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store && pnpm install --frozen-lockfile --offline
ARG FUNCTION
RUN test -n "${FUNCTION}" || { echo "--build-arg FUNCTION=<name> is required" >&2; exit 1; }; \
    pnpm exec tsx scripts/bundle/build.ts "${FUNCTION}" --install copy

# tini reaps zombies and forwards signals; the function's own SIGTERM handler drains requests.
FROM debian:${DEBIAN_RELEASE}-slim AS tini
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/*

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
ARG FUNCTION
LABEL org.opencontainers.image.source="https://github.com/maas-platform/maas" \
      org.opencontainers.image.description="MaaS platform function ${FUNCTION}" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV NODE_ENV=production \
    PORT=8080 \
    FUNCTION_NAME=${FUNCTION}
COPY --from=tini /usr/bin/tini-static /usr/bin/tini
WORKDIR /app
COPY --from=builder --chown=root:root /src/dist/bundles/${FUNCTION}/ ./
# The image's `node` user (uid 1000); numeric so Kubernetes can verify runAsNonRoot. The app files
# stay root-owned and read-only to it.
USER 1000:1000
EXPOSE 8080
# No HEALTHCHECK: Knative's readiness (/readyz) and liveness (/healthz) probes do that job.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "main.js"]
