import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing running; `integration` talks to the real PostgreSQL, Redis,
// Kafka and MinIO that `pnpm infra up` provisions (scripts/test.sh starts them first).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{functions,packages,events,scripts}/**/*.test.ts", "tests/manifests/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/*.int.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["**/*.int.test.ts", "tests/**/*.test.ts"],
          exclude: ["**/node_modules/**", "tests/manifests/**"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
