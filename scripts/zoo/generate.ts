// Generates the model zoo: `tsx scripts/zoo/generate.ts --out .local/zoo [--seed 1] [--large-side 16384 | --no-large]`.
import { parseArgs } from "node:util";
import { z } from "zod";
import { generateZoo } from "./generate-zoo.js";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    seed: { type: "string", default: "1" },
    "large-side": { type: "string", default: "16384" },
    "no-large": { type: "boolean", default: false },
  },
});

const args = z
  .object({
    out: z.string().min(1, "--out <dir> is required"),
    seed: z.coerce.number().int().nonnegative(),
    largeSide: z.coerce.number().int().nonnegative().max(23170, "a single ONNX file must stay below 2 GiB"),
  })
  .safeParse({
    out: values.out,
    seed: values.seed,
    largeSide: values["no-large"] ? 0 : values["large-side"],
  });

if (!args.success) {
  console.error(args.error.issues.map((i) => i.message).join("\n"));
  process.exit(2);
}

const started = performance.now();
const entries = await generateZoo(args.data);
for (const e of entries)
  console.log(`${e.file.padEnd(22)} ${String(e.bytes).padStart(12)}  ${e.expect}  ${e.description}`);
console.log(
  `wrote ${entries.length} files to ${args.data.out} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
