import { runMigrateCli } from "./migrate-cli.js";

// Entry point of `pnpm migrate` (see migrate-cli.ts for the commands).
process.exitCode = await runMigrateCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
