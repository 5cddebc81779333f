// actionlint checks the GitHub Actions workflows (syntax, expressions, action inputs, runner labels,
// and the shell in `run:` steps when shellcheck is installed). The binary is built once with
// `go install` into the shared cache, so a fresh clone on the same machine reuses it.
import { execFile, spawn } from "node:child_process";
import { access, constants, mkdir, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ACTIONLINT_VERSION = "v1.7.12";
const root = resolve(import.meta.dirname, "../..");
const cache = process.env.MAAS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "maas");
const bindir = join(cache, "actionlint", ACTIONLINT_VERSION);
const actionlint = join(bindir, "actionlint");
const workflows = join(root, ".github", "workflows");

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Runs actionlint; findings (non-zero exit) resolve too, so the test can show them. */
function lint(args: string[], stdin = ""): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(actionlint, ["-no-color", ...args], { cwd: root });
    let output = "";
    child.stdout.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? -1, output }));
    child.stdin.end(stdin);
  });
}

describe("GitHub Actions workflows", () => {
  beforeAll(async () => {
    if (await executable(actionlint)) return;
    await mkdir(bindir, { recursive: true });
    await run("go", ["install", `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`], {
      env: { ...process.env, GOBIN: bindir, GOFLAGS: "-mod=mod" },
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 600_000);

  it("has workflows to check", async () => {
    const files = (await readdir(workflows)).filter((f) => /\.ya?ml$/.test(f));
    expect(files).toContain("ci.yml");
  });

  it("actionlint reports no findings", async () => {
    const files = (await readdir(workflows))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(".github", "workflows", f));
    const result = await lint(files);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  it("actionlint does flag a broken workflow (so the check above can fail)", async () => {
    const broken =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template
      "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";
    const result = await lint(["-"], broken);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("nope");
  });
});
