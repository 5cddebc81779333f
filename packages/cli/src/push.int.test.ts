import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlHarness, startControlHarness } from "./testing/control-harness.js";
import { type FlakyProxy, startFlakyProxy } from "./testing/flaky-proxy.js";
import { writeRandomFile } from "./testing/random-file.js";
import { spawnCli, uploadPercent } from "./testing/spawn-cli.js";

// The real CLI (child process) against the real control function (own process), Postgres and MinIO.

const MiB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "maas-cli-int-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function versionIdOf(stdout: string): string {
  const id = /\((mver_[A-Za-z0-9]+)\)/.exec(stdout)?.[1];
  if (!id) throw new Error(`no version id in: ${stdout}`);
  return id;
}

describe("maas models push against the control API and MinIO", () => {
  let h: ControlHarness;
  beforeAll(async () => {
    h = await startControlHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("login, list, then a 100 MB push killed (SIGKILL) at ~50% resumes to an object with the same SHA-256", async () => {
    const env = { XDG_CONFIG_HOME: path.join(dir, "config-a") };
    const login = spawnCli(["login", "--endpoint", h.url, "--key", h.apiKey], env);
    expect((await login.exited).code).toBe(0);
    const list = spawnCli(["models", "list"], env);
    expect((await list.exited).code).toBe(0);
    expect(list.stdout()).toContain("no models yet");

    const file = path.join(dir, "model-100mb.onnx");
    const sha256 = await writeRandomFile(file, 100 * MiB + 12_345);
    let killedAt = 0;
    // A progress line every 10 ms: on a quiet machine MinIO takes 100 MB in well under a second, and
    // the kill must land on a line between 50 % and done.
    const push = spawnCli(
      ["models", "push", file, "--model", "big-mlp", "--create", "--parallel", "2"],
      { ...env, MAAS_PROGRESS_INTERVAL_MS: "10" },
      (_c, run) => {
        const pct = uploadPercent(run.stderr());
        if (killedAt === 0 && pct >= 50) {
          killedAt = pct;
          run.child.kill("SIGKILL");
        }
      },
    );
    const first = await push.exited;
    expect(first.signal).toBe("SIGKILL");
    expect(killedAt).toBeGreaterThanOrEqual(50);
    expect(killedAt).toBeLessThan(100);
    const uploadId = /resume (upl_[A-Za-z0-9]+)/.exec(push.stderr())?.[1];
    expect(uploadId).toBeDefined();

    const resume = spawnCli(["uploads", "resume", uploadId!], env);
    const second = await resume.exited;
    expect(second.code, resume.stderr()).toBe(0);
    // Only the parts the server lacked were sent: some were already there, not all.
    const m = /resuming: (\d+) of (\d+) parts already on the server/.exec(resume.stderr());
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![1])).toBeLessThan(Number(m![2]));
    const key = await h.objectKeyOf(versionIdOf(resume.stdout()));
    expect(await h.sha256Of(key)).toBe(sha256);
  });

  it("a refused storage quota exits 5 with limit and use", async () => {
    const small = await startControlHarness({ storageLimitBytes: 1024n * 1024n });
    try {
      const file = path.join(dir, "model-3mb.onnx");
      await writeRandomFile(file, 3 * MiB);
      const env = {
        XDG_CONFIG_HOME: path.join(dir, "config-q"),
        MAAS_ENDPOINT: small.url,
        MAAS_API_KEY: small.apiKey,
      };
      const run = spawnCli(["models", "push", file, "--model", "too-big", "--create"], env);
      expect((await run.exited).code).toBe(5);
      expect(run.stderr()).toMatch(/maas: quota exceeded: limit 1\.0 MiB/);
    } finally {
      await small.stop();
    }
  });

  it("a wrong key exits 3 and says to run maas login", async () => {
    const env = {
      XDG_CONFIG_HOME: path.join(dir, "config-w"),
      MAAS_ENDPOINT: h.url,
      MAAS_API_KEY: `${h.apiKey}x`,
    };
    const run = spawnCli(["models", "list"], env);
    expect((await run.exited).code).toBe(3);
    expect(run.stderr()).toContain("run maas login");
  });
});

describe("maas models push through a flaky link to MinIO", () => {
  let h: ControlHarness;
  let proxy: FlakyProxy;
  beforeAll(async () => {
    const s3 = process.env.S3_ENDPOINT ?? "http://127.0.0.1:59000";
    // Cut every 3rd connection after 1 MiB of request bytes, i.e. in the middle of a part.
    proxy = await startFlakyProxy({ target: s3, dropEvery: 3, afterBytes: MiB });
    h = await startControlHarness({ s3PublicEndpoint: proxy.url });
  });
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  it("completes via retries, with the right SHA-256", async () => {
    const file = path.join(dir, "model-48mb.onnx");
    const sha256 = await writeRandomFile(file, 48 * MiB);
    const env = { XDG_CONFIG_HOME: path.join(dir, "config-f"), MAAS_ENDPOINT: h.url, MAAS_API_KEY: h.apiKey };
    const run = spawnCli(["models", "push", file, "--model", "flaky", "--create", "--parallel", "3"], env);
    const exit = await run.exited;
    expect(exit.code, run.stderr()).toBe(0);
    expect(proxy.dropped).toBeGreaterThan(0);
    expect(run.stderr()).toMatch(/retrying part \d+/);
    const key = await h.objectKeyOf(versionIdOf(run.stdout()));
    expect(await h.sha256Of(key)).toBe(sha256);
  });
});
