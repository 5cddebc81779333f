import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A contract-faithful stand-in for the control API's upload routes, for UNIT tests only (the
// integration tests and the benchmark run the real control function against Postgres and MinIO).
// Embedded mode: part URLs point at the server's own PUT route, which needs the API key.

export interface FakeControlOptions {
  apiKey: string;
  partSize: number;
  /** Storage quota in bytes; an upload that exceeds it is refused at create. */
  storageLimit?: number;
  /** Decides, per part PUT, to fail it: "reset" drops the socket, a number answers that status. */
  failPut?: (partNumber: number, attempt: number) => "reset" | number | undefined;
  /** Milliseconds each part PUT waits before answering (to interrupt a push mid-way). */
  putDelayMs?: number;
}

interface FakeUpload {
  id: string;
  modelId: string;
  versionId: string;
  version: number;
  status: "active" | "completed" | "aborted";
  sizeBytes: number;
  sha256: string;
  partSize: number;
  partCount: number;
  parts: Map<number, Buffer>;
}

export interface FakeControl {
  url: string;
  models: Map<string, { id: string; name: string; description: string | null; createdAt: string }>;
  uploads: Map<string, FakeUpload>;
  /** Every part PUT received, in order (part numbers), including failed ones. */
  putLog: number[];
  /** Completed objects: version id → bytes' sha256. */
  objects: Map<string, string>;
  close(): Promise<void>;
}

const errorBody = (code: string, message: string, details?: unknown) => ({
  error: {
    code,
    message,
    requestId: "req_fake",
    docs: `https://docs.maas.dev/errors/${code}`,
    ...(details === undefined ? {} : { details }),
  },
});

/**
 * Starts the stand-in on a random local port.
 *
 * @example
 * const fake = await startFakeControl({ apiKey: "k", partSize: 64 * 1024 });
 */
export async function startFakeControl(options: FakeControlOptions): Promise<FakeControl> {
  const models = new Map<
    string,
    { id: string; name: string; description: string | null; createdAt: string }
  >();
  const uploads = new Map<string, FakeUpload>();
  const objects = new Map<string, string>();
  const attempts = new Map<string, number>();
  const putLog: number[] = [];
  let used = 0;
  let base = "";

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text === "" ? {} : JSON.parse(text);
  };
  const findModel = (ref: string) => [...models.values()].find((m) => m.id === ref || m.name === ref);
  const view = (u: FakeUpload) => ({
    id: u.id,
    modelId: u.modelId,
    versionId: u.versionId,
    version: u.version,
    status: u.status,
    sizeBytes: u.sizeBytes,
    sha256: u.sha256,
    partSize: u.partSize,
    partCount: u.partCount,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  });
  const expectedSize = (u: FakeUpload, n: number) => Math.min(u.partSize, u.sizeBytes - (n - 1) * u.partSize);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", base);
    const p = url.pathname;
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      // Drain the body so the client sees the answer rather than a reset.
      req.resume();
      return send(res, 401, errorBody("UNAUTHENTICATED", "missing or invalid API key"));
    }
    if (req.method === "GET" && p === "/v1/models") return send(res, 200, { models: [...models.values()] });
    if (req.method === "POST" && p === "/v1/models") {
      const body = (await readJson(req)) as { name?: unknown; description?: unknown };
      if (typeof body.name !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(body.name)) {
        return send(
          res,
          400,
          errorBody("VALIDATION_FAILED", "invalid body", {
            issues: [{ path: "name", message: "must be a slug" }],
          }),
        );
      }
      if (findModel(body.name)) return send(res, 409, errorBody("CONFLICT", `model ${body.name} exists`));
      const model = {
        id: `mdl_${randomBytes(6).toString("hex")}`,
        name: body.name,
        description: typeof body.description === "string" ? body.description : null,
        createdAt: new Date().toISOString(),
      };
      models.set(model.id, model);
      return send(res, 201, { model });
    }
    let m = /^\/v1\/models\/([^/]+)$/.exec(p);
    if (req.method === "GET" && m) {
      const model = findModel(decodeURIComponent(m[1]!));
      if (!model) return send(res, 404, errorBody("NOT_FOUND", "model not found"));
      return send(res, 200, { model, versions: [] });
    }
    m = /^\/v1\/models\/([^/]+)\/uploads$/.exec(p);
    if (req.method === "POST" && m) {
      const model = findModel(decodeURIComponent(m[1]!));
      if (!model) return send(res, 404, errorBody("NOT_FOUND", "model not found"));
      const body = (await readJson(req)) as { sizeBytes: number; sha256: string };
      if (options.storageLimit !== undefined && used + body.sizeBytes > options.storageLimit) {
        return send(
          res,
          403,
          errorBody("QUOTA_EXCEEDED", "storage quota exceeded", {
            limit: options.storageLimit,
            used,
            requested: body.sizeBytes,
          }),
        );
      }
      used += body.sizeBytes;
      const upload: FakeUpload = {
        id: `upl_${randomBytes(6).toString("hex")}`,
        modelId: model.id,
        versionId: `mver_${randomBytes(6).toString("hex")}`,
        version: [...uploads.values()].filter((u) => u.modelId === model.id).length + 1,
        status: "active",
        sizeBytes: body.sizeBytes,
        sha256: body.sha256,
        partSize: options.partSize,
        partCount: Math.max(1, Math.ceil(body.sizeBytes / options.partSize)),
        parts: new Map(),
      };
      uploads.set(upload.id, upload);
      return send(res, 201, { upload: view(upload) });
    }
    m = /^\/v1\/uploads\/([^/]+)(\/parts|\/complete|\/parts\/(\d+))?$/.exec(p);
    const upload = m ? uploads.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !upload) {
      req.resume();
      return send(res, 404, errorBody("NOT_FOUND", "not found"));
    }
    const tail = m[2];
    if (req.method === "GET" && tail === undefined) {
      const parts = [...upload.parts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([partNumber, b]) => ({
          partNumber,
          size: b.length,
          etag: createHash("md5").update(b).digest("hex"),
        }));
      return send(res, 200, { upload: view(upload), parts });
    }
    if (req.method === "POST" && tail === "/parts") {
      const body = (await readJson(req)) as { partNumbers: number[] };
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      return send(res, 200, {
        parts: body.partNumbers.map((n) => ({
          partNumber: n,
          method: "PUT",
          url: `${base}/v1/uploads/${upload.id}/parts/${n}`,
          headers: {},
          expiresAt,
        })),
      });
    }
    if (req.method === "PUT" && m[3] !== undefined) {
      const n = Number(m[3]);
      putLog.push(n);
      const key = `${upload.id}:${n}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const failure = options.failPut?.(n, attempt);
      if (failure === "reset") {
        req.socket.destroy();
        return;
      }
      if (Number(req.headers["content-length"]) !== expectedSize(upload, n)) {
        req.resume();
        return send(res, 400, errorBody("VALIDATION_FAILED", "wrong Content-Length for this part"));
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (options.putDelayMs) await new Promise((r) => setTimeout(r, options.putDelayMs));
      if (typeof failure === "number") return send(res, failure, errorBody("INTERNAL", "injected failure"));
      const bytes = Buffer.concat(chunks);
      upload.parts.set(n, bytes);
      const etag = createHash("md5").update(bytes).digest("hex");
      return send(res, 200, {}, { etag: `"${etag}"` });
    }
    if (req.method === "POST" && tail === "/complete") {
      await readJson(req);
      const missing: number[] = [];
      for (let n = 1; n <= upload.partCount; n++)
        if (upload.parts.get(n)?.length !== expectedSize(upload, n)) missing.push(n);
      if (missing.length > 0)
        return send(res, 409, errorBody("CONFLICT", "parts missing", { missingParts: missing }));
      const hash = createHash("sha256");
      for (let n = 1; n <= upload.partCount; n++) hash.update(upload.parts.get(n)!);
      const digest = hash.digest("hex");
      if (digest !== upload.sha256) return send(res, 409, errorBody("CONFLICT", "sha256 mismatch"));
      upload.status = "completed";
      objects.set(upload.versionId, digest);
      return send(res, 200, {
        version: {
          id: upload.versionId,
          version: upload.version,
          status: "uploaded",
          sizeBytes: upload.sizeBytes,
          sha256: digest,
        },
      });
    }
    return send(res, 405, errorBody("METHOD_NOT_ALLOWED", "method not allowed"));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody("INTERNAL", String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    models,
    uploads,
    putLog,
    objects,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
