// Regenerates events/generated (JSON Schema per event type, AsyncAPI 3.0) from the catalog.
// Run: pnpm --filter @maas/events generate   (the drift test in src/schema fails until you do)
import { fileURLToPath } from "node:url";
import { writeGenerated } from "../src/schema/generate.js";

const dir = fileURLToPath(new URL("../generated", import.meta.url));
const written = await writeGenerated(dir);
process.stdout.write(`wrote ${written.length} files to ${dir}\n`);
