import type { Dispatcher } from "undici";
import type { RetryOptions } from "./retry-policy.js";

export interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Everything the CLI touches outside itself, passed in so tests drive it without a process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  /** Where `maas login` reads a key from when neither --key nor MAAS_API_KEY gives one. */
  stdin?: NodeJS.ReadableStream;
  /** Aborted on Ctrl-C: uploads stop, state is kept, the resume command is printed. */
  signal?: AbortSignal;
  /** Connection pool for API calls and part uploads; a fresh undici Agent sized to --parallel otherwise. */
  dispatcher?: Dispatcher;
  retry?: RetryOptions;
}
