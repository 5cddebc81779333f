import { z } from "zod";

export class EnvError extends Error {
  constructor(readonly issues: { key: string; message: string }[]) {
    super(`invalid environment:\n${issues.map((i) => `  ${i.key}: ${i.message}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/**
 * Parses the environment once, at start. A bad environment throws EnvError naming every bad key,
 * so a revision never becomes ready instead of failing at its first request.
 *
 * @example
 * const env = parseEnv(z.object({ PORT: port(8080) }), process.env);
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => ({ key: i.path.join("."), message: i.message })));
  }
  return result.data;
}

/** Like parseEnv, but prints the problem and exits 1: for `main.ts` entry points. */
export function loadEnvOrExit<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  try {
    return parseEnv(schema, source);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** A TCP port with a default. */
export const port = (def: number) => z.coerce.number().int().min(0).max(65535).default(def);

/** "true"/"1"/"yes" style booleans from strings. */
export const flag = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", ""])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

/** An optional URL that treats "" as absent (empty env vars are common in manifests). */
export const optionalUrl = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : v))
    .pipe(z.string().url().optional());
