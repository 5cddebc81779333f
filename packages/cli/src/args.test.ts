import { describe, expect, it } from "vitest";
import { DEFAULT_PARALLEL, parseCommand } from "./args.js";
import { CliError } from "./cli-error.js";

function usageError(argv: string[]): string {
  try {
    parseCommand(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe("USAGE");
    return (err as Error).message;
  }
  throw new Error("expected a usage error");
}

describe("parseCommand", () => {
  it("parses push with its flags, flags before or after the file", () => {
    expect(
      parseCommand(["models", "push", "m.onnx", "--model", "resnet", "--parallel", "4", "--create"]),
    ).toEqual({
      kind: "models-push",
      file: "m.onnx",
      model: "resnet",
      parallel: 4,
      create: true,
    });
    expect(parseCommand(["models", "push", "-m", "resnet", "m.onnx", "--key", "k"])).toEqual({
      kind: "models-push",
      file: "m.onnx",
      model: "resnet",
      parallel: DEFAULT_PARALLEL,
      create: false,
      key: "k",
    });
  });

  it("parses login, list and resume", () => {
    expect(parseCommand(["login", "--endpoint", "http://x", "--key", "k"])).toEqual({
      kind: "login",
      endpoint: "http://x",
      key: "k",
    });
    expect(parseCommand(["models", "list", "--json"])).toEqual({ kind: "models-list", json: true });
    expect(parseCommand(["uploads", "resume", "upl_abc", "--file", "f.onnx", "-p", "2"])).toEqual({
      kind: "uploads-resume",
      uploadId: "upl_abc",
      file: "f.onnx",
      parallel: 2,
    });
  });

  it("help and version", () => {
    expect(parseCommand([])).toEqual({ kind: "help" });
    expect(parseCommand(["--help"])).toEqual({ kind: "help" });
    expect(parseCommand(["models", "push", "--help"])).toEqual({ kind: "help" });
    expect(parseCommand(["--version"])).toEqual({ kind: "version" });
  });

  it("refuses bad command lines with a usage message", () => {
    expect(usageError(["models", "push", "m.onnx"])).toMatch(/missing --model/);
    expect(usageError(["models", "push", "--model", "x"])).toMatch(/missing <file>/);
    expect(usageError(["models", "push", "m.onnx", "--model", "x", "--parallel", "0"])).toMatch(
      /--parallel must be/,
    );
    expect(usageError(["models", "push", "m.onnx", "--model", "x", "--parallel", "1.5"])).toMatch(
      /--parallel must be/,
    );
    expect(usageError(["models", "push", "a", "b", "--model", "x"])).toMatch(/unexpected argument b/);
    expect(usageError(["models", "list", "--bogus"])).toMatch(/bogus/);
    expect(usageError(["uploads", "resume"])).toMatch(/missing <upload-id>/);
    expect(usageError(["uploads", "resume", "../../etc"])).toMatch(/not an upload id/);
    expect(usageError(["deploy"])).toMatch(/unknown command: deploy/);
  });
});
