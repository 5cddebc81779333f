import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { AppError, type ErrorCode } from "@maas/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MiB } from "../limits.js";
import type { ObjectStore } from "../object-store.js";

export interface ContractSubject {
  store: ObjectStore;
  /** Removes what the store itself needs removed (the temp folder of an FsObjectStore). */
  dispose?: () => Promise<void>;
}

export interface ContractOptions {
  /** Whether `presignPart` must return a URL that `curl -T` can PUT to. */
  presigns: boolean;
  /** Size of the streamed object in the bounded-memory test; default 64 MiB. */
  streamBytes?: number;
  /**
   * Largest live-memory growth allowed while streaming parts in and the object out; default 16 MiB.
   * A put of unknown length may hold twice that: it must buffer whole parts (S3 needs each
   * request's length up front), one filling while the previous one uploads.
   */
  maxGrowthBytes?: number;
}

const run = promisify(execFile);

/**
 * The one behaviour every `ObjectStore` must show, run against each implementation (FS in the
 * unit project, S3 against real MinIO in the integration project). Each run works under its own
 * key prefix and deletes it afterwards.
 *
 * @example
 * describeObjectStoreContract("FsObjectStore", async () => ({ store: new FsObjectStore({ root }) }), { presigns: false });
 */
export function describeObjectStoreContract(
  name: string,
  setup: () => Promise<ContractSubject>,
  options: ContractOptions,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ObjectStore;
    const prefix = `contract-${Date.now()}-${randomBytes(4).toString("hex")}/`;
    let n = 0;
    const key = (label: string) => `${prefix}${label}-${++n}.onnx`;

    beforeAll(async () => {
      subject = await setup();
      store = subject.store;
    });

    afterAll(async () => {
      await store.deletePrefix(prefix);
      await store.close();
      await subject.dispose?.();
    });

    it("puts, heads and reads whole objects with an md5 etag", async () => {
      const k = key("put");
      const data = randomBytes(300_000);
      const put = await store.put(k, data, { contentType: "application/onnx", metadata: { Sha256: "abc" } });
      expect(put).toEqual({ etag: md5(data), size: data.length });
      expect(await store.head(k)).toEqual({
        size: data.length,
        etag: md5(data),
        contentType: "application/onnx",
        metadata: { sha256: "abc" },
      });
      expect(await readAll(await store.getStream(k))).toEqual(data);

      // Overwrite with a stream of unknown length: readers see the new bytes whole.
      const next = randomBytes(70_000);
      await store.put(k, chunks(next, 10_000));
      expect((await store.head(k))?.etag).toBe(md5(next));
      expect(await readAll(await store.getStream(k))).toEqual(next);

      await store.delete(k);
      expect(await store.head(k)).toBeNull();
      await store.delete(k); // deleting a missing object is fine, as in S3
    });

    it("answers null / NOT_FOUND for missing objects", async () => {
      const k = key("missing");
      expect(await store.head(k)).toBeNull();
      await expectCode(store.getStream(k), "NOT_FOUND");
    });

    it("refuses keys that are not safe relative paths", async () => {
      for (const bad of ["", "/abs", "a//b", "../up", `${prefix}.uploads/x`, "a/", "a\\b"]) {
        await expectCode(store.head(bad), "VALIDATION_FAILED");
        await expectCode(store.put(bad, new Uint8Array(1)), "VALIDATION_FAILED");
      }
    });

    it("refuses a put whose body differs from the declared length, leaving no object", async () => {
      const k = key("put-short");
      await expectCode(
        store.put(k, chunks(randomBytes(1000), 100), { contentLength: 2000 }),
        "VALIDATION_FAILED",
      );
      await expectCode(
        store.put(k, chunks(randomBytes(3000), 100), { contentLength: 2000 }),
        "VALIDATION_FAILED",
      );
      expect(await store.head(k)).toBeNull();
    });

    it("reads inclusive byte ranges and refuses impossible ones", async () => {
      const k = key("range");
      const data = randomBytes(10_000);
      await store.put(k, data);
      expect(await readAll(await store.getStream(k, { start: 100, end: 199 }))).toEqual(
        data.subarray(100, 200),
      );
      expect(await readAll(await store.getStream(k, { start: 9_990 }))).toEqual(data.subarray(9_990));
      expect(await readAll(await store.getStream(k, { end: 9 }))).toEqual(data.subarray(0, 10));
      // An end past the object is clamped, as HTTP ranges are.
      expect(await readAll(await store.getStream(k, { start: 9_000, end: 50_000 }))).toEqual(
        data.subarray(9_000),
      );
      await expectCode(store.getStream(k, { start: 10_000 }), "VALIDATION_FAILED");
      await expectCode(store.getStream(k, { start: 20, end: 10 }), "VALIDATION_FAILED");
      await expectCode(store.getStream(k, { start: -1 }), "VALIDATION_FAILED");
    });

    it("assembles parts uploaded out of order, and listParts shows them for resuming", async () => {
      const k = key("multipart");
      const p1 = randomBytes(5 * MiB);
      const p2 = randomBytes(5 * MiB);
      const p3 = randomBytes(123_457);
      const { uploadId } = await store.createMultipart(k, {
        contentType: "application/onnx",
        metadata: { a: "1" },
      });
      expect(uploadId).toMatch(/\S{8,}/);

      const r3 = await store.uploadPart(k, uploadId, 3, chunks(p3, 64 * 1024), p3.length);
      const r1 = await store.uploadPart(k, uploadId, 1, chunks(p1, 256 * 1024), p1.length);
      expect(r3).toEqual({ etag: md5(p3), size: p3.length });
      expect(r1).toEqual({ etag: md5(p1), size: p1.length });

      // A client that lost its state resumes from the upload id alone: parts 1 and 3 are there.
      expect(await store.listParts(k, uploadId)).toEqual([
        { partNumber: 1, etag: md5(p1), size: p1.length },
        { partNumber: 3, etag: md5(p3), size: p3.length },
      ]);
      const r2 = await store.uploadPart(k, uploadId, 2, p2, p2.length);
      const listed = await store.listParts(k, uploadId);
      expect(listed.map((p) => p.partNumber)).toEqual([1, 2, 3]);
      expect(await store.head(k)).toBeNull(); // nothing visible before completion

      const done = await store.completeMultipart(
        k,
        uploadId,
        [r1, r2, r3].map((r, i) => ({ partNumber: i + 1, etag: r.etag })),
      );
      const whole = Buffer.concat([p1, p2, p3]);
      expect(done).toEqual({ etag: multipartEtag([p1, p2, p3]), size: whole.length });
      const head = await store.head(k);
      expect(head).toMatchObject({ size: whole.length, etag: done.etag, contentType: "application/onnx" });
      expect(head?.metadata).toEqual({ a: "1" });
      expect(sha256(await readAll(await store.getStream(k)))).toBe(sha256(whole));
      expect(await store.listMultipartUploads(k)).toEqual([]);
      // The finished upload is gone: its parts cannot be listed any more.
      await expectCode(store.listParts(k, uploadId), "NOT_FOUND");
    });

    it("lists every part past S3's 1,000-part page", async () => {
      const k = key("many-parts");
      const { uploadId } = await store.createMultipart(k);
      const count = 1_005;
      const numbers = Array.from({ length: count }, (_, i) => i + 1);
      // 16 at a time: enough to be quick, few enough for a shared machine.
      for (let i = 0; i < numbers.length; i += 16) {
        await Promise.all(
          numbers.slice(i, i + 16).map((n) => store.uploadPart(k, uploadId, n, Buffer.from([n % 256]), 1)),
        );
      }
      const parts = await store.listParts(k, uploadId);
      expect(parts.length).toBe(count);
      expect(parts.map((p) => p.partNumber)).toEqual(numbers);
      expect(parts[1_004]).toEqual({ partNumber: 1_005, etag: md5(Buffer.from([1_005 % 256])), size: 1 });
      await store.abortMultipart(k, uploadId);
    }, 120_000);

    it("replaces a re-uploaded part", async () => {
      const k = key("replace");
      const { uploadId } = await store.createMultipart(k);
      await store.uploadPart(k, uploadId, 1, randomBytes(1000), 1000);
      const again = randomBytes(2000);
      await store.uploadPart(k, uploadId, 1, again, again.length);
      expect(await store.listParts(k, uploadId)).toEqual([{ partNumber: 1, etag: md5(again), size: 2000 }]);
      await store.abortMultipart(k, uploadId);
    });

    it("refuses to complete with a wrong, missing, unordered or too-small part, and keeps the upload", async () => {
      const k = key("bad-complete");
      const big = randomBytes(5 * MiB);
      const small = randomBytes(1000);
      const { uploadId } = await store.createMultipart(k);
      const r1 = await store.uploadPart(k, uploadId, 1, big, big.length);
      const r2 = await store.uploadPart(k, uploadId, 2, small, small.length);
      const r3 = await store.uploadPart(k, uploadId, 3, small, small.length);

      const wrongEtag = [
        { partNumber: 1, etag: r1.etag },
        { partNumber: 2, etag: md5(Buffer.from("not this")) },
      ];
      await expectCode(store.completeMultipart(k, uploadId, wrongEtag), "VALIDATION_FAILED");
      const missing = [
        { partNumber: 1, etag: r1.etag },
        { partNumber: 4, etag: r2.etag },
      ];
      await expectCode(store.completeMultipart(k, uploadId, missing), "VALIDATION_FAILED");
      const unordered = [
        { partNumber: 2, etag: r2.etag },
        { partNumber: 1, etag: r1.etag },
      ];
      await expectCode(store.completeMultipart(k, uploadId, unordered), "VALIDATION_FAILED");
      // Part 2 (1,000 bytes) is not the last one here: S3 requires 5 MiB for all but the last part.
      const tooSmall = [
        { partNumber: 1, etag: r1.etag },
        { partNumber: 2, etag: r2.etag },
        { partNumber: 3, etag: r3.etag },
      ];
      await expectCode(store.completeMultipart(k, uploadId, tooSmall), "VALIDATION_FAILED");
      await expectCode(store.completeMultipart(k, uploadId, []), "VALIDATION_FAILED");
      expect(await store.head(k)).toBeNull();

      // The upload survives refused completions: the client fixes its list and completes.
      expect((await store.listParts(k, uploadId)).length).toBe(3);
      const ok = await store.completeMultipart(k, uploadId, [
        { partNumber: 1, etag: r1.etag },
        { partNumber: 3, etag: `"${r3.etag.toUpperCase()}"` }, // quoted/upper-case etags are accepted
      ]);
      expect(ok.size).toBe(big.length + small.length);
    });

    it("refuses bad part numbers and sizes, and parts whose body differs from its length", async () => {
      const k = key("bad-part");
      const { uploadId } = await store.createMultipart(k);
      for (const partNumber of [0, 10_001, 1.5, -1]) {
        await expectCode(
          store.uploadPart(k, uploadId, partNumber, new Uint8Array(1), 1),
          "VALIDATION_FAILED",
        );
      }
      for (const size of [-1, 5 * 1024 * MiB + 1, 0.5]) {
        await expectCode(store.uploadPart(k, uploadId, 1, new Uint8Array(1), size), "VALIDATION_FAILED");
      }
      await expectCode(
        store.uploadPart(k, uploadId, 1, chunks(randomBytes(500), 100), 1000),
        "VALIDATION_FAILED",
      );
      await expectCode(
        store.uploadPart(k, uploadId, 2, chunks(randomBytes(1500), 100), 1000),
        "VALIDATION_FAILED",
      );
      expect(await store.listParts(k, uploadId)).toEqual([]);
      await store.abortMultipart(k, uploadId);
    });

    it("answers NOT_FOUND for an unknown upload or an upload of another key", async () => {
      const k = key("unknown");
      const other = key("other");
      const { uploadId } = await store.createMultipart(k);
      const fake = "AAAAAAAAAAAAAAAAAAAAAAAA";
      await expectCode(store.uploadPart(k, fake, 1, new Uint8Array(10), 10), "NOT_FOUND");
      await expectCode(store.listParts(k, fake), "NOT_FOUND");
      await expectCode(
        store.completeMultipart(k, fake, [{ partNumber: 1, etag: md5(Buffer.alloc(1)) }]),
        "NOT_FOUND",
      );
      await expectCode(store.listParts(other, uploadId), "NOT_FOUND");
      await store.abortMultipart(k, uploadId);
    });

    it("aborts leaving nothing behind, and aborting again is harmless", async () => {
      const k = key("abort");
      const { uploadId } = await store.createMultipart(k);
      await store.uploadPart(k, uploadId, 1, randomBytes(5 * MiB), 5 * MiB);
      await store.uploadPart(k, uploadId, 2, randomBytes(10), 10);
      expect((await store.listMultipartUploads(k)).map((u) => u.uploadId)).toEqual([uploadId]);

      await store.abortMultipart(k, uploadId);
      expect(await store.listMultipartUploads(k)).toEqual([]);
      expect(await store.head(k)).toBeNull();
      await expectCode(store.listParts(k, uploadId), "NOT_FOUND");
      await expectCode(store.uploadPart(k, uploadId, 3, randomBytes(10), 10), "NOT_FOUND");
      await store.abortMultipart(k, uploadId);
    });

    it("lists in-progress uploads by prefix, with their start time", async () => {
      const before = Date.now() - 60_000;
      const a1 = `${prefix}list/a/one.onnx`;
      const a2 = `${prefix}list/a/two.onnx`;
      const b = `${prefix}list/b/one.onnx`;
      const u1 = await store.createMultipart(a1);
      const u2 = await store.createMultipart(a2);
      const u3 = await store.createMultipart(b);
      const listed = await store.listMultipartUploads(`${prefix}list/a/`);
      expect(listed.map((u) => [u.key, u.uploadId])).toEqual([
        [a1, u1.uploadId],
        [a2, u2.uploadId],
      ]);
      for (const u of listed) expect(u.initiated.getTime()).toBeGreaterThan(before);
      expect((await store.listMultipartUploads(`${prefix}list/`)).length).toBe(3);
      await store.abortMultipart(b, u3.uploadId);
      expect((await store.listMultipartUploads(`${prefix}list/`)).length).toBe(2);
    });

    it("deletes every object and upload under a prefix, and nothing else", async () => {
      const inside = [`${prefix}del/x/a.onnx`, `${prefix}del/x/deep/b.onnx`, `${prefix}del/xy.onnx`];
      const outside = `${prefix}keep/a.onnx`;
      for (const k of [...inside, outside]) await store.put(k, randomBytes(100));
      const pending = await store.createMultipart(`${prefix}del/x/c.onnx`);
      await store.uploadPart(`${prefix}del/x/c.onnx`, pending.uploadId, 1, randomBytes(10), 10);

      expect(await store.deletePrefix(`${prefix}del/x`)).toBe(3); // a plain string prefix, as in S3
      for (const k of inside) expect(await store.head(k)).toBeNull();
      expect(await store.head(outside)).not.toBeNull();
      expect(await store.listMultipartUploads(`${prefix}del/`)).toEqual([]);
      await expectCode(store.deletePrefix(""), "VALIDATION_FAILED");
    });

    if (options.presigns) {
      it("presigns part URLs that plain `curl -T` can upload to", async () => {
        const k = key("presigned");
        const dir = await mkdtemp(path.join(tmpdir(), "maas-presign-"));
        try {
          const p1 = randomBytes(5 * MiB);
          const p2 = randomBytes(4321);
          await writeFile(path.join(dir, "p1"), p1);
          await writeFile(path.join(dir, "p2"), p2);
          const { uploadId } = await store.createMultipart(k);
          const u1 = await store.presignPart(k, uploadId, 1, 600);
          const u2 = await store.presignPart(k, uploadId, 2, 600);
          expect(u1).toMatch(/^https?:\/\//);
          // --fail: a 4xx from S3 (e.g. a signed checksum header curl cannot send) fails the test.
          const put = async (file: string, url: string) =>
            (await run("curl", ["-sS", "--fail", "-o", "/dev/null", "-w", "%{http_code}", "-T", file, url]))
              .stdout;
          expect(await put(path.join(dir, "p2"), u2!)).toBe("200");
          expect(await put(path.join(dir, "p1"), u1!)).toBe("200");

          const parts = await store.listParts(k, uploadId);
          expect(parts).toEqual([
            { partNumber: 1, etag: md5(p1), size: p1.length },
            { partNumber: 2, etag: md5(p2), size: p2.length },
          ]);
          const done = await store.completeMultipart(k, uploadId, parts);
          expect(done.size).toBe(p1.length + p2.length);
          expect(sha256(await readAll(await store.getStream(k)))).toBe(sha256(Buffer.concat([p1, p2])));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      it("refuses to presign bad part numbers or expiries", async () => {
        const k = key("presign-bad");
        await expectCode(store.presignPart(k, "x".repeat(20), 0, 60), "VALIDATION_FAILED");
        await expectCode(store.presignPart(k, "x".repeat(20), 1, 0), "VALIDATION_FAILED");
        await expectCode(store.presignPart(k, "x".repeat(20), 1, 8 * 24 * 3600), "VALIDATION_FAILED");
      });
    } else {
      it("cannot presign: returns null so the API accepts parts itself", async () => {
        const k = key("no-presign");
        const { uploadId } = await store.createMultipart(k);
        expect(await store.presignPart(k, uploadId, 1, 600)).toBeNull();
        await expectCode(store.presignPart(k, "A".repeat(24), 1, 600), "NOT_FOUND");
        await store.abortMultipart(k, uploadId);
      });
    }

    it("streams a large object through multipart and back with bounded memory", async () => {
      const total = options.streamBytes ?? 64 * MiB;
      const limit = options.maxGrowthBytes ?? 16 * MiB;
      const partSize = 8 * MiB;
      const k = key("stream");
      const sent = createHash("sha256");
      const growth: Record<string, Growth> = {};

      growth.multipartUpload = await peakGrowth(async () => {
        const { uploadId } = await store.createMultipart(k);
        const parts = [];
        for (let start = 0, number = 1; start < total; start += partSize, number += 1) {
          const size = Math.min(partSize, total - start);
          const r = await store.uploadPart(k, uploadId, number, generated(size, sent), size);
          parts.push({ partNumber: number, etag: r.etag });
        }
        expect((await store.completeMultipart(k, uploadId, parts)).size).toBe(total);
      });

      growth.read = await peakGrowth(async () => {
        const received = createHash("sha256");
        let bytes = 0;
        for await (const chunk of await store.getStream(k)) {
          received.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
        }
        expect(bytes).toBe(total);
        expect(received.digest("hex")).toBe(sent.digest("hex"));
      });

      growth.putUnknownLength = await peakGrowth(async () => {
        const put = await store.put(key("stream-put"), generated(total, createHash("sha256")));
        expect(put.size).toBe(total);
      });

      // The meter can fail: holding the object in memory shows up as at least most of its size.
      growth.bufferedReadForComparison = await peakGrowth(async () => {
        const whole = await readAll(await store.getStream(k));
        expect(whole.length).toBe(total);
      });
      expect(growth.bufferedReadForComparison!.live).toBeGreaterThan(total * 0.75);

      const mib = (n: number) => `${(n / MiB).toFixed(1)}`;
      const lines = Object.entries(growth).map(
        ([phase, g]) => `${phase} live +${mib(g.live)} / rss +${mib(g.rss)}`,
      );
      console.info(`[${name}] ${mib(total)} MiB object, peak growth in MiB: ${lines.join("; ")}`);
      expect(growth.multipartUpload!.live).toBeLessThan(limit);
      expect(growth.read!.live).toBeLessThan(limit);
      expect(growth.putUnknownLength!.live).toBeLessThan(2 * limit);
      expect(growth.multipartUpload!.rss).toBeLessThan(total);
    }, 120_000);
  });
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
}

function md5(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** S3's multipart etag, computed independently of the store under test. */
function multipartEtag(parts: Uint8Array[]): string {
  const h = createHash("md5");
  for (const p of parts) h.update(createHash("md5").update(p).digest());
  return `${h.digest("hex")}-${parts.length}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** `size` fresh random bytes in 1 MiB chunks, hashed as they are produced; never all in memory. */
async function* generated(size: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) {
    const chunk = randomBytes(Math.min(MiB, left));
    hash.update(chunk);
    yield chunk;
  }
}

/** A way to force a full GC inside a test worker (Node exposes it once the flag is set at run time). */
function forceGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

interface Growth {
  /** Peak resident set size above the start. */
  rss: number;
  /** Peak live JS heap + buffers above the start: what the code holds on to. */
  live: number;
}

/**
 * Peak memory above the starting point while `fn` runs, sampled every 25 ms right after a forced
 * GC. Without the GC, V8 lets freed buffers pile up until it feels pressure, which would measure
 * the collector's laziness rather than the code's buffering. RSS is reported, but it is a blunt
 * meter in a long-lived worker (pages freed earlier are reused without growing it); the assertion
 * is on live heap + buffer memory, which sees every retained byte.
 */
async function peakGrowth(fn: () => Promise<void>): Promise<Growth> {
  const gc = forceGc();
  const live = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  gc();
  gc();
  const base = { rss: process.memoryUsage.rss(), live: live() };
  const peak = { ...base };
  const sample = () => {
    // Twice: V8 frees buffer memory on a background thread after a GC; the next GC finishes that.
    gc();
    gc();
    peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
    peak.live = Math.max(peak.live, live());
  };
  const timer = setInterval(sample, 25);
  try {
    await fn();
    sample();
  } finally {
    clearInterval(timer);
  }
  return { rss: peak.rss - base.rss, live: peak.live - base.live };
}
