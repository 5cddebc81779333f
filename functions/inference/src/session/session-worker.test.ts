import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel, zoo } from "@maas/onnx";
import { describe, expect, it } from "vitest";
import { startSessionPool } from "./session-pool.js";
import { createWithFallback } from "./session-worker.js";

describe("execution provider fallback", () => {
  it("falls back to cpu with the reason when an earlier provider fails to create", async () => {
    const tried: string[] = [];
    const r = await createWithFallback(
      async (_path, options) => {
        const p = String(options.executionProviders?.[0]);
        tried.push(p);
        if (p === "cuda") throw new Error("libonnxruntime_providers_cuda.so: cannot open shared object file");
        return { provider: p };
      },
      "m.onnx",
      ["cuda", "cpu"],
      {},
    );
    expect(tried).toEqual(["cuda", "cpu"]);
    expect(r.provider).toBe("cpu");
    expect(r.fallbacks).toEqual([
      { provider: "cuda", reason: expect.stringContaining("cannot open shared object") },
    ]);
  });

  it("rethrows when cpu itself fails", async () => {
    await expect(
      createWithFallback(async () => Promise.reject(new Error("bad model")), "m.onnx", ["cuda"], {}),
    ).rejects.toThrow("bad model");
  });

  it("on this machine (no CUDA provider library) a gpu request really lands on cpu in the worker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "inf-fallback-"));
    const path = join(dir, "mlp.onnx");
    await writeFile(path, encodeModel(zoo.mlpClassifier(1)));
    const fallbacks: { provider: string; reason: string }[] = [];
    const pool = await startSessionPool({
      modelPath: path,
      workers: 1,
      providers: ["cuda", "cpu"],
      intraOpNumThreads: 1,
      onFallback: (f) => fallbacks.push(f),
    });
    try {
      expect(pool.info.provider).toBe("cpu");
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]!.provider).toBe("cuda");
      expect(fallbacks[0]!.reason.length).toBeGreaterThan(0);
      const r = await pool.execute(
        [{ name: "input", datatype: "FP32", shape: [1, 64], data: new Float32Array(64) }],
        [],
      );
      expect(r.outputs[0]!.shape).toEqual([1, 10]);
    } finally {
      await pool.close();
    }
  });
});
