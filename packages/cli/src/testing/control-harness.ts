import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateApiKey } from "@maas/auth";
import { defaultInfra } from "@maas/config";
import { createDb, createFreshDatabase, type DbHandle, migrateToLatest, newId, withSystem } from "@maas/db";
import { createObjectStore, type ObjectStore } from "@maas/storage";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../../..");
const pg = defaultInfra.postgres;
const minio = defaultInfra.minio;

/** Env of the real services, from the environment or the local defaults (`pnpm infra up`). */
export function infraEnv(env: NodeJS.ProcessEnv = process.env) {
  return {
    adminUrl: env.DATABASE_URL ?? `postgres://${pg.user}:${pg.password}@${pg.host}:${pg.port}/${pg.database}`,
    s3: {
      S3_ENDPOINT: env.S3_ENDPOINT ?? `http://${minio.host}:${minio.port}`,
      S3_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID ?? minio.accessKey,
      S3_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY ?? minio.secretKey,
      S3_BUCKET: env.S3_BUCKET ?? "maas-models",
      S3_REGION: env.S3_REGION ?? "us-east-1",
      S3_FORCE_PATH_STYLE: "true",
    },
  };
}

export interface ControlHarness {
  /** Base URL of the control API. */
  url: string;
  /** An owner key of the seeded tenant. */
  apiKey: string;
  tenantId: string;
  /** The control process (its pid for RSS sampling). */
  child: ChildProcess;
  db: DbHandle;
  store: ObjectStore;
  /** Object key of a completed version. */
  objectKeyOf(versionId: string): Promise<string>;
  /** Streams an object from MinIO and hashes it. */
  sha256Of(key: string): Promise<string>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Host presigned part URLs point at (a proxy in front of MinIO); default S3_ENDPOINT. */
  s3PublicEndpoint?: string;
  storageLimitBytes?: bigint;
  /** Extra `node` flags for the control process. */
  nodeArgs?: string[];
  /**
   * A folder built by `scripts/bundle` (`dist/bundles/control`): control then runs the way its image
   * does (`node --enable-source-maps main.js`, NODE_ENV=production, a clean environment). Unset: the
   * source entry `functions/control/src/main.ts` under tsx.
   */
  bundleDir?: string;
  /** With `bundleDir`: keep the image's `--enable-source-maps` (default true); false measures its cost. */
  sourceMaps?: boolean;
}

/** Where the control function's source entry lives (what its image bundles). */
export const controlMain = path.join(repoRoot, "functions/control/src/main.ts");

import { freePort } from "@maas/config";

export { freePort };

/**
 * A fresh database (migrated, one tenant with a storage quota, one owner key) and the real control
 * function (`functions/control/src/main.ts`, or its bundle) running as its own process against it
 * and MinIO.
 *
 * @example
 * const h = await startControlHarness();
 * // production form: await startControlHarness({ bundleDir: "dist/bundles/control" })
 * afterAll(() => h.stop());
 */
export async function startControlHarness(options: HarnessOptions = {}): Promise<ControlHarness> {
  const infra = infraEnv();
  const fresh = await createFreshDatabase(infra.adminUrl, { prefix: "maas_cli" });
  const db = createDb({ url: fresh.url });
  await migrateToLatest(db.db);
  const tenantId = newId("tnt");
  const storageLimit = options.storageLimitBytes ?? 64n * 1024n ** 3n;
  const key = generateApiKey();
  await withSystem(db.db, async (trx) => {
    await trx
      .insertInto("tenants")
      .values({ id: tenantId, slug: `t-${tenantId.slice(-10)}`, name: "cli test", status: "active" })
      .execute();
    await trx
      .insertInto("quotas")
      .values({
        tenant_id: tenantId,
        max_storage_bytes: storageLimit,
      })
      .onConflict((oc) => oc.column("tenant_id").doUpdateSet({ max_storage_bytes: storageLimit }))
      .execute();
    await trx
      .insertInto("api_keys")
      .values({
        id: key.id,
        tenant_id: tenantId,
        prefix: key.prefix,
        hash: key.hash,
        role: "owner",
        name: "cli",
      })
      .execute();
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Only what functions/control/src/main.ts reads; the harness migrated the database itself.
  const controlEnv = {
    ...infra.s3,
    ...(options.s3PublicEndpoint ? { S3_PUBLIC_ENDPOINT: options.s3PublicEndpoint } : {}),
    DATABASE_URL: fresh.url,
    PORT: String(port),
    HOST: "127.0.0.1",
    PUBLIC_URL: url,
    LOG_LEVEL: "warn",
  };
  const nodeArgs = options.nodeArgs ?? [];
  const child = options.bundleDir
    ? spawn(
        process.execPath,
        [...nodeArgs, ...(options.sourceMaps === false ? [] : ["--enable-source-maps"]), "main.js"],
        {
          cwd: options.bundleDir,
          env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...controlEnv },
          stdio: ["ignore", "inherit", "inherit"],
        },
      )
    : spawn(process.execPath, [...nodeArgs, "--import", "tsx", controlMain], {
        cwd: repoRoot,
        env: { ...process.env, ...controlEnv },
        stdio: ["ignore", "inherit", "inherit"],
      });
  const store = createObjectStore(infra.s3);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await store.deletePrefix(`tenants/${tenantId}/`).catch(() => undefined);
    await store.close();
    await db.close();
    await fresh.drop();
  };
  try {
    await waitReady(url, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    apiKey: key.secret,
    tenantId,
    child,
    db,
    store,
    async objectKeyOf(versionId) {
      const row = await withSystem(db.db, (trx) =>
        trx
          .selectFrom("model_versions")
          .select("object_key")
          .where("id", "=", versionId)
          .executeTakeFirstOrThrow(),
      );
      return row.object_key;
    },
    async sha256Of(objectKey) {
      const hash = createHash("sha256");
      for await (const chunk of await store.getStream(objectKey)) hash.update(chunk as Buffer);
      return hash.digest("hex");
    },
    stop,
  };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`control exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("control did not become ready in 60 s");
}
