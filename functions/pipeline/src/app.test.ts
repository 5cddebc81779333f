import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type DbHandle, migrateToLatest } from "@maas/db";
import { createEvent, events } from "@maas/events";
import { captureLogger, itBehavesLikeAFunction, postEvent as post } from "@maas/runtime/testing";
import { FsObjectStore } from "@maas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipeline } from "./app.js";

let handle: DbHandle;
let root: string;

beforeAll(async () => {
  handle = createDb();
  await migrateToLatest(handle.db);
  root = await mkdtemp(join(tmpdir(), "pipeline-app-"));
}, 60_000);

afterAll(async () => {
  await handle?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function setup() {
  const { logger, lines } = captureLogger();
  return { fn: createPipeline({ logger }, { db: handle.db, store: new FsObjectStore({ root }) }), lines };
}

describe("pipeline", () => {
  itBehavesLikeAFunction("pipeline", () => setup().fn);

  it.each([
    [
      "model.version.uploaded",
      () =>
        createEvent(events.modelVersionUploaded, {
          source: "/test",
          data: {
            tenantId: "tnt_acme",
            modelId: "mdl_resnet",
            versionId: "mver_1",
            objectKey: "tenants/tnt_acme/models/mdl_resnet/mver_1/fp32.onnx",
            sizeBytes: 1024,
            sha256: "a".repeat(64),
            format: "onnx",
          },
        }),
    ],
  ] as const)("accepts %s for a version it does not know with 202 and logs why", async (_short, make) => {
    const { fn, lines } = setup();
    const event = make();
    const res = await post(fn, event);
    expect(res.status).toBe(202);
    expect(lines.find((l) => l.msg === "model version no longer exists; nothing to do")).toMatchObject({
      eventId: event.id,
      level: "warn",
    });
  });

  it("answers an event type it does not handle with 400, never 404", async () => {
    const { fn } = setup();
    const res = await post(
      fn,
      createEvent(events.deploymentDeleted, {
        source: "/test",
        data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
      }),
    );
    expect(res.status).toBe(400);
  });
});
