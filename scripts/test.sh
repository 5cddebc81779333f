#!/usr/bin/env bash
# `pnpm test`: provisions the local PostgreSQL, Redis, Kafka and MinIO (`pnpm infra up`), points the
# integration tests at them, then runs lint, typecheck and every vitest project. It ends with one line
# `tests: N passed, M failed[, K skipped]` and exits non-zero if anything failed. The services stay up
# afterwards so the next run starts warm (`pnpm infra down` stops them).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

bash scripts/infra/infra.sh up || {
  echo "test: infrastructure did not come up (see .local/infra/logs)" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
}

# Already-set values win, so the same script runs against services you provide yourself.
export DATABASE_URL="${DATABASE_URL:-postgres://maas:maas@127.0.0.1:55432/maas}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:56379}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:59092}"
export S3_ENDPOINT="${S3_ENDPOINT:-http://127.0.0.1:59000}"
export S3_REGION="${S3_REGION:-us-east-1}"
export S3_ACCESS_KEY_ID="${S3_ACCESS_KEY_ID:-maasadmin}"
export S3_SECRET_ACCESS_KEY="${S3_SECRET_ACCESS_KEY:-maasadmin-secret}"
export S3_BUCKET="${S3_BUCKET:-maas-models}"

# A real etcd + kube-apiserver for the deployer's apply/watch tests, built once into the cache. If
# the build cannot run here, those tests report themselves skipped (the fake API server tests still run).
bash scripts/k8s/build-apiserver.sh >/dev/null || echo "test: could not build kube-apiserver; its tests will be skipped" >&2

status=0
pnpm lint || { echo "test: lint failed" >&2; status=1; }
pnpm typecheck || { echo "test: typecheck failed" >&2; status=1; }

report=.local/vitest.json
mkdir -p .local && rm -f "$report"
pnpm exec vitest run --reporter=default --reporter=json --outputFile="$report" || status=1

# The summary comes from vitest's JSON report. A test file that fails to load has no failed test
# in it, so it counts as one failure of its own; a missing report (vitest itself broke) or missing
# infrastructure reads as `0 passed, 1 failed` so the line never looks green when nothing ran.
# shellcheck disable=SC2016 # the single-quoted text is JavaScript, its ${…} are JS templates
summary=$(
  node -e '
    const fs = require("node:fs");
    let r;
    try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { console.log("missing"); process.exit(0); }
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
    ).length;
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    const failed = (r.numFailedTests ?? 0) + brokenFiles;
    console.log(`tests: ${r.numPassedTests ?? 0} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$report"
)
if [[ $summary == missing ]]; then
  echo "test: vitest wrote no report at $report" >&2
  summary="tests: 0 passed, 1 failed"
fi
[[ $summary =~ \ 0\ failed ]] || status=1
echo "$summary"
exit "$status"
