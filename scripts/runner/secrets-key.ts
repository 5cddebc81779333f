import { randomBytes } from "node:crypto";
import { link, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The local platform's SECRETS_KEY (a cluster reads it from the `maas-secrets` Secret): made once per
 * data folder and kept there, so a restarted platform still opens the webhook secrets it sealed.
 *
 * @example
 * childEnv.SECRETS_KEY = env.SECRETS_KEY || (await localSecretsKey(".local"));
 */
export async function localSecretsKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "secrets-key");
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing !== undefined && existing.trim() !== "") return existing.trim();
  // Written whole under a private name, then linked into place: link fails if the file exists, so
  // two runners starting together agree on the first key and nobody reads a half-written one.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(tmp, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  try {
    await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  } finally {
    await rm(tmp, { force: true });
  }
  return (await readFile(file, "utf8")).trim();
}
