import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { EXIT } from "./exit-codes.js";
import { loadResumeState } from "./resume-state.js";
import { captureIo } from "./testing/capture-io.js";
import { type FakeControl, type FakeControlOptions, startFakeControl } from "./testing/fake-control.js";

const KEY = "maas_test_key";
const PART = 64 * 1024;

let home: string;
let file: string;
let bytes: Buffer;
let fake: FakeControl | undefined;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), "maas-cli-"));
  file = path.join(home, "model.onnx");
  // 20.5 parts: the last part is a remainder.
  bytes = randomBytes(20 * PART + 1234);
  await writeFile(file, bytes);
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  await rm(home, { recursive: true, force: true });
});

async function start(options: Partial<FakeControlOptions> = {}) {
  fake = await startFakeControl({ apiKey: KEY, partSize: PART, ...options });
  return fake;
}
const envFor = (f: FakeControl, key = KEY) => ({
  XDG_CONFIG_HOME: home,
  MAAS_ENDPOINT: f.url,
  MAAS_API_KEY: key,
});
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("maas login", () => {
  it("verifies the key, then stores endpoint and key with mode 0600", async () => {
    const f = await start();
    const c = captureIo({ XDG_CONFIG_HOME: home });
    expect(await runCli(["login", "--endpoint", f.url, "--key", KEY], c.io)).toBe(EXIT.OK);
    const file = path.join(home, "maas", "config.json");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ endpoint: f.url, apiKey: KEY });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // The saved login is used by later commands.
    const list = captureIo({ XDG_CONFIG_HOME: home });
    expect(await runCli(["models", "list"], list.io)).toBe(EXIT.OK);
    expect(list.out).toContain("no models yet");
  });

  it("a rejected key saves nothing and says to log in", async () => {
    const f = await start();
    const c = captureIo({ XDG_CONFIG_HOME: home });
    expect(await runCli(["login", "--endpoint", f.url, "--key", "wrong"], c.io)).toBe(EXIT.AUTH);
    expect(c.err).toMatch(/^maas: not authenticated: .*run maas login\n$/);
    await expect(stat(path.join(home, "maas", "config.json"))).rejects.toThrow(/ENOENT/);
  });

  it("an unreachable endpoint is exit 7", async () => {
    const c = captureIo({ XDG_CONFIG_HOME: home }, { retry: { retries: 0 } });
    expect(await runCli(["login", "--endpoint", "http://127.0.0.1:9", "--key", KEY], c.io)).toBe(
      EXIT.UNAVAILABLE,
    );
    expect(c.err).toContain("network error");
  });
});

describe("maas models push", () => {
  it("uploads every part in parallel and completes with the file's sha256", async () => {
    const f = await start();
    const c = captureIo(envFor(f));
    expect(
      await runCli(["models", "push", file, "--model", "mlp", "--create", "--parallel", "4"], c.io),
    ).toBe(EXIT.OK);
    expect(c.out).toMatch(/^pushed mlp version 1 \(mver_[0-9a-f]+\): .* status uploaded\n$/);
    const upload = [...f.uploads.values()][0]!;
    expect(upload.partCount).toBe(21);
    expect(f.putLog.sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect([...f.objects.values()]).toEqual([sha(bytes)]);
    expect(c.err).toMatch(/upload 100% /);
    // Finished uploads leave no resume state behind.
    expect(await loadResumeState(path.join(home, "maas"), upload.id)).toBeNull();
  });

  it("retries parts whose connection drops or that answer 5xx", async () => {
    const f = await start({
      failPut: (n, attempt) =>
        attempt === 1 && n % 3 === 0 ? "reset" : attempt <= 2 && n % 5 === 0 ? 503 : undefined,
    });
    const c = captureIo(envFor(f));
    expect(
      await runCli(["models", "push", file, "--model", "mlp", "--create", "--parallel", "6"], c.io),
    ).toBe(EXIT.OK);
    expect([...f.objects.values()]).toEqual([sha(bytes)]);
    expect(c.err).toMatch(/retrying part 3 \(attempt 2\)/);
    expect(c.err).toMatch(/retrying part 5 \(attempt 3\)/);
  });

  it("gives up on a part that keeps failing, keeping the upload resumable (exit 7)", async () => {
    const f = await start({ failPut: (n) => (n === 7 ? 500 : undefined) });
    const c = captureIo(envFor(f), { retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    expect(await runCli(["models", "push", file, "--model", "mlp", "--create"], c.io)).toBe(EXIT.UNAVAILABLE);
    const upload = [...f.uploads.values()][0]!;
    expect(c.err).toContain(`maas uploads resume ${upload.id}`);
    expect(c.err).toMatch(/maas: part upload failed after retries/);
    expect(f.putLog.filter((n) => n === 7)).toHaveLength(3);
  });

  it("without --create, a missing model is exit 4 before hashing", async () => {
    const f = await start();
    const c = captureIo(envFor(f));
    expect(await runCli(["models", "push", file, "--model", "nope"], c.io)).toBe(EXIT.NOT_FOUND);
    expect(c.err).toBe("maas: not found: model nope does not exist; pass --create to create it\n");
    expect(f.uploads.size).toBe(0);
  });

  it("a storage quota refusal says limit and use (exit 5)", async () => {
    const f = await start({ storageLimit: 1024 * 1024 });
    const c = captureIo(envFor(f));
    expect(await runCli(["models", "push", file, "--model", "mlp", "--create"], c.io)).toBe(EXIT.QUOTA);
    expect(c.err).toContain("maas: quota exceeded: limit 1.0 MiB, used 0 B, this needs 1.3 MiB");
  });

  it("a server-side validation failure names the field (exit 6)", async () => {
    const f = await start();
    const c = captureIo(envFor(f));
    expect(await runCli(["models", "push", file, "--model", "Bad Name", "--create"], c.io)).toBe(
      EXIT.REJECTED,
    );
    expect(c.err).toBe("maas: invalid input: name: must be a slug\n");
  });

  it("a missing file is exit 8", async () => {
    const f = await start();
    const c = captureIo(envFor(f));
    expect(
      await runCli(["models", "push", path.join(home, "none.onnx"), "--model", "m", "--create"], c.io),
    ).toBe(EXIT.LOCAL_FILE);
    expect(c.err).toContain("ENOENT");
  });
});

describe("interrupt and resume", () => {
  it("Ctrl-C stops cleanly with the resume command; resume sends only the missing parts", async () => {
    const f = await start({ putDelayMs: 20 });
    const controller = new AbortController();
    const c = captureIo(envFor(f), { signal: controller.signal });
    const running = runCli(["models", "push", file, "--model", "mlp", "--create", "--parallel", "2"], c.io);
    // Interrupt once about half the parts are on the server.
    while (([...f.uploads.values()][0]?.parts.size ?? 0) < 10) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(await running).toBe(EXIT.INTERRUPTED);
    const upload = [...f.uploads.values()][0]!;
    expect(c.err).toContain(`resume with:\n  maas uploads resume ${upload.id}\n`);
    const before = upload.parts.size;
    expect(before).toBeGreaterThanOrEqual(10);
    expect(before).toBeLessThan(21);
    const state = await loadResumeState(path.join(home, "maas"), upload.id);
    expect(state).toMatchObject({ uploadId: upload.id, file, sizeBytes: bytes.length, sha256: sha(bytes) });

    const putsBefore = f.putLog.length;
    const r = captureIo(envFor(f));
    expect(await runCli(["uploads", "resume", upload.id], r.io)).toBe(EXIT.OK);
    expect(r.err).toContain(`resuming: ${before} of 21 parts already on the server`);
    const resent = f.putLog.slice(putsBefore);
    expect(new Set(resent).size).toBe(21 - before);
    expect([...f.objects.values()]).toEqual([sha(bytes)]);
    expect(r.err).not.toContain("verifying");
  });

  it("resume re-hashes a file whose mtime changed, and refuses different content (exit 8)", async () => {
    let failing = true;
    const f = await start({ failPut: (n) => (failing && n > 3 ? 500 : undefined) });
    const c = captureIo(envFor(f), { retry: { retries: 0 } });
    expect(
      await runCli(["models", "push", file, "--model", "mlp", "--create", "--parallel", "1"], c.io),
    ).toBe(EXIT.UNAVAILABLE);
    const upload = [...f.uploads.values()][0]!;
    expect(upload.parts.size).toBe(3);
    failing = false;

    // Different content of the same size: refused, nothing sent.
    const tampered = Buffer.from(bytes);
    tampered[5] = (tampered[5] ?? 0) ^ 0xff;
    const other = path.join(home, "other.onnx");
    await writeFile(other, tampered);
    const putsBefore = f.putLog.length;
    const bad = captureIo(envFor(f));
    expect(await runCli(["uploads", "resume", upload.id, "--file", other], bad.io)).toBe(EXIT.LOCAL_FILE);
    expect(bad.err).toMatch(/does not match upload/);
    expect(f.putLog.length).toBe(putsBefore);

    // Same bytes, new mtime: verified by hash, then resumed.
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const ok = captureIo(envFor(f));
    expect(await runCli(["uploads", "resume", upload.id], ok.io)).toBe(EXIT.OK);
    expect(ok.err).toContain("verifying");
    expect([...f.objects.values()]).toEqual([sha(bytes)]);
  });

  it("resume of an unknown upload is exit 4", async () => {
    const f = await start();
    const c = captureIo(envFor(f));
    expect(await runCli(["uploads", "resume", "upl_missing"], c.io)).toBe(EXIT.NOT_FOUND);
    expect(c.err).toBe("maas: not found: not found\n");
  });
});
