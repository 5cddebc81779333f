import { startPlatform } from "./platform.js";
import { formatTable } from "./table.js";

// `pnpm start`: the platform on this machine from knative/base. Ctrl-C / SIGTERM stops every child
// (SIGTERM, then SIGKILL after STOP_TIMEOUT_MS) and exits 0. LOCAL_DIR moves embedded state (default .local/).
const knativeDir = process.argv[2] ?? process.env.KNATIVE_DIR ?? "knative/base";

let platform: Awaited<ReturnType<typeof startPlatform>>;
try {
  platform = await startPlatform({
    knativeDir,
    ...(process.env.LOCAL_DIR ? { dataDir: process.env.LOCAL_DIR } : {}),
    stopTimeoutMs: Number(process.env.STOP_TIMEOUT_MS ?? 10_000),
  });
} catch (err) {
  process.stderr.write(`runner: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

process.stdout.write(`\n${formatTable(platform.services)}`);
process.stdout.write(`broker   ${platform.brokerUrl}\n`);
process.stdout.write(
  `backends postgres=${platform.backends.postgres} events=${platform.backends.events} objects=${platform.backends.objects}\n`,
);
process.stdout.write("ready: Ctrl-C to stop\n");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`runner: ${signal}, stopping\n`);
  await platform.stop();
  process.stdout.write("runner: stopped\n");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
