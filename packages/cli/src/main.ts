import { runCli } from "./cli.js";
import { EXIT } from "./exit-codes.js";

// Ctrl-C once: stop cleanly (parts in flight are abandoned, state kept, the resume command printed).
// Twice: leave now.
const controller = new AbortController();
let interrupts = 0;
process.on("SIGINT", () => {
  interrupts++;
  if (interrupts > 1) process.exit(EXIT.INTERRUPTED);
  process.stderr.write("\ninterrupting… (Ctrl-C again to quit at once)\n");
  controller.abort(new Error("interrupted"));
});
process.on("SIGTERM", () => controller.abort(new Error("terminated")));

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
});
process.exit(code);
