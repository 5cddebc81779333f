import { createHash } from "node:crypto";
import { withSystem } from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, json, MiB, PUBLIC_URL, patternBytes, type Seeded } from "./harness.js";

interface UploadBody {
  upload: {
    id: string;
    versionId: string;
    version: number;
    status: string;
    partSize: number;
    partCount: number;
    sizeBytes: number;
  };
}

let h: Harness;
let t: Seeded;
beforeAll(async () => {
  h = await createHarness();
  t = await h.seedTenant();
}, 60_000);
afterAll(() => h.close());

async function createModel(name: string): Promise<string> {
  const res = await h.request("POST", "/v1/models", {
    key: t.keys.developer,
    body: { name, description: "a test" },
  });
  expect(res.status).toBe(201);
  return (await json<{ model: { id: string } }>(res)).model.id;
}

async function putPart(uploadId: string, n: number, bytes: Uint8Array, key = t.keys.developer) {
  return h.request("PUT", `/v1/uploads/${uploadId}/parts/${n}`, {
    key,
    raw: bytes,
    headers: { "content-type": "application/octet-stream", "content-length": String(bytes.byteLength) },
  });
}

describe("models", () => {
  it("creates, lists and gets a model by id and by name", async () => {
    const id = await createModel("resnet");
    const list = await json<{ models: { id: string; name: string }[] }>(
      await h.request("GET", "/v1/models", { key: t.keys.viewer }),
    );
    expect(list.models.map((m) => m.name)).toContain("resnet");
    for (const ref of [id, "resnet"]) {
      const res = await h.request("GET", `/v1/models/${ref}`, { key: t.keys.viewer });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        model: { id, name: "resnet", description: "a test" },
        versions: [],
      });
    }
  });

  it("records the creation in the audit log with the key and the request id", async () => {
    const res = await h.request("POST", "/v1/models", {
      key: t.keys.developer,
      body: { name: "audited" },
      headers: { "x-request-id": "req-audit-1" },
    });
    const { model } = await json<{ model: { id: string } }>(res);
    const audit = await json<{
      entries: { action: string; target: string; actor: string; requestId: string }[];
    }>(await h.request("GET", "/v1/audit?action=model.create", { key: t.keys.admin }));
    expect(audit.entries.find((e) => e.target === model.id)).toMatchObject({
      action: "model.create",
      requestId: "req-audit-1",
      actor: expect.stringMatching(/^key_/),
    });
  });
});

describe("a resumable upload in embedded mode (parts through the API)", () => {
  const size = 11 * MiB + 123;
  const file = patternBytes(size, 7);
  const sha256 = createHash("sha256").update(file).digest("hex");
  let uploadId: string;
  let modelId: string;

  it("creates the upload with the part plan and reserves the bytes", async () => {
    modelId = await createModel("uploaded");
    const res = await h.request("POST", "/v1/models/uploaded/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: size, sha256: sha256.toUpperCase(), filename: "model.onnx" },
    });
    expect(res.status).toBe(201);
    const { upload } = await json<UploadBody & { upload: Record<string, unknown> }>(res);
    expect(upload).toMatchObject({
      id: expect.stringMatching(/^upl_/),
      modelId,
      version: 1,
      status: "active",
      sizeBytes: size,
      sha256,
      partSize: 5 * MiB,
      partCount: 3,
    });
    expect(Date.parse(upload.expiresAt as string)).toBeGreaterThan(Date.now());
    uploadId = upload.id as string;
    const storage = await withSystem(h.db, (trx) =>
      trx
        .selectFrom("tenant_storage")
        .selectAll()
        .where("tenant_id", "=", t.tenantId)
        .executeTakeFirstOrThrow(),
    );
    expect(storage.reserved_bytes).toBe(BigInt(size));
  });

  it("hands out the API's own part URLs where the store cannot presign", async () => {
    const res = await h.request("POST", `/v1/uploads/${uploadId}/parts`, {
      key: t.keys.developer,
      body: { partNumbers: [1, 3] },
    });
    expect(res.status).toBe(200);
    const { parts } = await json<{
      parts: { partNumber: number; method: string; url: string; headers: object; expiresAt: string }[];
    }>(res);
    expect(parts).toEqual([
      {
        partNumber: 1,
        method: "PUT",
        url: `${PUBLIC_URL}/v1/uploads/${uploadId}/parts/1`,
        headers: {},
        expiresAt: expect.any(String),
      },
      {
        partNumber: 3,
        method: "PUT",
        url: `${PUBLIC_URL}/v1/uploads/${uploadId}/parts/3`,
        headers: {},
        expiresAt: expect.any(String),
      },
    ]);
  });

  it("accepts parts out of order and lists what it holds (resume from the id alone)", async () => {
    const p3 = await putPart(uploadId, 3, file.subarray(10 * MiB));
    expect(p3.status).toBe(200);
    const etag3 = createHash("md5")
      .update(file.subarray(10 * MiB))
      .digest("hex");
    expect(p3.headers.get("etag")).toBe(`"${etag3}"`);
    expect((await putPart(uploadId, 1, file.subarray(0, 5 * MiB))).status).toBe(200);
    const status = await json<{
      upload: { status: string };
      parts: { partNumber: number; size: number; etag: string }[];
    }>(await h.request("GET", `/v1/uploads/${uploadId}`, { key: t.keys.developer }));
    expect(status.upload.status).toBe("active");
    expect(status.parts).toEqual([
      { partNumber: 1, size: 5 * MiB, etag: expect.any(String) },
      { partNumber: 3, size: MiB + 123, etag: etag3 },
    ]);
  });

  it("refuses to complete with a part missing and says which (409), then completes", async () => {
    const early = await h.request("POST", `/v1/uploads/${uploadId}/complete`, {
      key: t.keys.developer,
      body: {},
    });
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: { code: "CONFLICT", details: { missingParts: [2] } } });

    expect((await putPart(uploadId, 2, file.subarray(5 * MiB, 10 * MiB))).status).toBe(200);
    const res = await h.request("POST", `/v1/uploads/${uploadId}/complete`, {
      key: t.keys.developer,
      body: {},
    });
    expect(res.status).toBe(200);
    const { version } = await json<{ version: { id: string } }>(res);
    expect(version).toMatchObject({ version: 1, status: "uploaded", sizeBytes: size, sha256 });

    // The object is the file, byte for byte.
    const row = await withSystem(h.db, (trx) =>
      trx.selectFrom("model_versions").selectAll().where("id", "=", version.id).executeTakeFirstOrThrow(),
    );
    const hash = createHash("sha256");
    for await (const chunk of await h.store.getStream(row.object_key)) hash.update(chunk as Buffer);
    expect(hash.digest("hex")).toBe(sha256);

    // model.version.uploaded went through the outbox, with the tenant.
    const outbox = await withSystem(h.db, (trx) =>
      trx.selectFrom("outbox").selectAll().where("tenant_id", "=", t.tenantId).execute(),
    );
    const uploaded = outbox.find(
      (o) => (o.event as { type: string }).type === "io.maas.model.version.uploaded.v1",
    );
    expect(uploaded?.event).toMatchObject({
      tenantid: t.tenantId,
      data: {
        modelId,
        versionId: version.id,
        sizeBytes: size,
        sha256,
        objectKey: row.object_key,
        format: "onnx",
      },
    });
    // Reserved bytes became used bytes.
    const storage = await withSystem(h.db, (trx) =>
      trx
        .selectFrom("tenant_storage")
        .selectAll()
        .where("tenant_id", "=", t.tenantId)
        .executeTakeFirstOrThrow(),
    );
    expect({ used: storage.used_bytes, reserved: storage.reserved_bytes }).toEqual({
      used: BigInt(size),
      reserved: 0n,
    });
  });

  it("shows the version on the model and by number", async () => {
    const model = await json<{ versions: { version: number; status: string }[] }>(
      await h.request("GET", "/v1/models/uploaded", { key: t.keys.viewer }),
    );
    expect(model.versions).toEqual([expect.objectContaining({ version: 1, status: "uploaded" })]);
    const res = await h.request("GET", "/v1/models/uploaded/versions/1", { key: t.keys.viewer });
    expect(await res.json()).toMatchObject({
      version: {
        version: 1,
        status: "uploaded",
        sizeBytes: size,
        sha256,
        signature: null,
        variants: [],
        rejectionReason: null,
      },
    });
  });

  it("a completed upload takes no more parts (409)", async () => {
    const res = await putPart(uploadId, 1, file.subarray(0, 5 * MiB));
    expect(res.status).toBe(409);
  });
});

describe("abort", () => {
  it("drops the parts, releases the reservation and the version, and numbers the next version again", async () => {
    await createModel("aborted");
    const before = await withSystem(h.db, (trx) =>
      trx
        .selectFrom("tenant_storage")
        .selectAll()
        .where("tenant_id", "=", t.tenantId)
        .executeTakeFirstOrThrow(),
    );
    const created = await json<UploadBody>(
      await h.request("POST", "/v1/models/aborted/uploads", {
        key: t.keys.developer,
        body: { sizeBytes: 1000, sha256: "c".repeat(64) },
      }),
    );
    expect((await putPart(created.upload.id, 1, patternBytes(1000))).status).toBe(200);
    const res = await h.request("DELETE", `/v1/uploads/${created.upload.id}`, { key: t.keys.developer });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ upload: { id: created.upload.id, status: "aborted" } });
    expect(await h.store.listMultipartUploads(`tenants/${t.tenantId}/`)).not.toContainEqual(
      expect.objectContaining({ key: expect.stringContaining(created.upload.versionId) }),
    );
    const after = await withSystem(h.db, (trx) =>
      trx
        .selectFrom("tenant_storage")
        .selectAll()
        .where("tenant_id", "=", t.tenantId)
        .executeTakeFirstOrThrow(),
    );
    expect(after.reserved_bytes).toBe(before.reserved_bytes);
    expect(
      (await h.request("GET", `/v1/uploads/${created.upload.id}`, { key: t.keys.developer })).status,
    ).toBe(404);
    const again = await json<UploadBody>(
      await h.request("POST", "/v1/models/aborted/uploads", {
        key: t.keys.developer,
        body: { sizeBytes: 1000, sha256: "c".repeat(64) },
      }),
    );
    expect(again.upload.version).toBe(1);
  });
});

describe("memory", () => {
  it("streams a 64 MiB part into the store without holding it (RSS grows far less than the part)", async () => {
    const big = await createHarness({ db: h.db, store: h.store, uploads: { minPartSize: 64 * MiB } });
    const size = 64 * MiB;
    await h.request("POST", "/v1/models", { key: t.keys.developer, body: { name: "big" } });
    const { upload } = await json<UploadBody>(
      await big.request("POST", "/v1/models/big/uploads", {
        key: t.keys.developer,
        body: { sizeBytes: size, sha256: "d".repeat(64) },
      }),
    );
    expect(upload.partCount).toBe(1);
    const chunk = patternBytes(MiB, 3);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) {
          controller.close();
          return;
        }
        // The same chunk each time: the test itself makes no garbage that would blur the measurement.
        controller.enqueue(chunk);
        sent += chunk.byteLength;
      },
    });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const res = await big.fn.app.request(`/v1/uploads/${upload.id}/parts/1`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${t.keys.developer}`,
        "content-type": "application/octet-stream",
        "content-length": String(size),
      },
      body: stream,
      duplex: "half",
    } as RequestInit);
    clearInterval(sampler);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ part: { partNumber: 1, size } });
    const growthMiB = (peak - rssBefore) / MiB;
    console.log(`64 MiB part: peak RSS growth ${growthMiB.toFixed(1)} MiB`);
    // Buffering the part would add at least its 64 MiB; streaming stays at a few chunks plus GC slack.
    expect(growthMiB).toBeLessThan(48);
    await big.close();
  }, 60_000);
});
