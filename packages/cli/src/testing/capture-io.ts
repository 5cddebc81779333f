import type { CliIo } from "../cli-io.js";

/** A CliIo whose output is collected in strings, for tests. */
export function captureIo(env: NodeJS.ProcessEnv, extra: Partial<CliIo> = {}) {
  let out = "";
  let err = "";
  const io: CliIo = {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    retry: { retries: 5, initialDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  };
  return {
    io,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}
