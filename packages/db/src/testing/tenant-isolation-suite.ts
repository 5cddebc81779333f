import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@maas/errors";
import { type Kysely, sql, type Transaction } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../create-db.js";
import type { Database, TENANT_TABLES } from "../database.js";
import { newId } from "../ids.js";
import { migrateDown, migrateToLatest, migrationStatus } from "../migrate.js";
import { withSystem, withTenant } from "../scoped-transaction.js";

/**
 * The tenant-isolation contract, run against every engine (PGlite in the unit project, real
 * PostgreSQL in the integration project), the way kysely's own tests loop over dialects.
 */
export interface Engine {
  name: "pglite" | "postgres";
  /** Tells variants of one engine apart in the test names. */
  variant?: string;
  /** A new, empty database, opened. Called more than once per file; each must be independent. */
  open(): Promise<{ handle: DbHandle; dispose(): Promise<void> }>;
}

/** Tables of 0001-tenancy (what is left after reverting the later migrations). */
const TENANCY_TABLES = ["tenants", "quotas", "api_keys", "members", "audit_log", "outbox"] as const;
/** Tables of 0002-registry. */
const REGISTRY_TABLES = ["models", "model_versions", "uploads", "deployments", "tenant_storage"] as const;
/** Tables of 0003-billing that carry tenant_id (prices is shared: plan rows have no tenant). */
const BILLING_TABLES = [
  "usage_events",
  "usage_hourly",
  "invoices",
  "invoice_lines",
  "webhooks",
  "webhook_deliveries",
] as const;
const TABLES = [...TENANCY_TABLES, ...REGISTRY_TABLES, ...BILLING_TABLES] as const;
type Table = (typeof TABLES)[number];
/** Tables whose tenant column is `tenant_id` (tenants uses `id`). */
const TENANT_COLUMN_TABLES = TABLES.filter(
  (t): t is Exclude<Table, "tenants"> => t !== "tenants",
) satisfies readonly (typeof TENANT_TABLES)[number][];
/** Every migration, in order. */
const MIGRATIONS = [
  "0001-tenancy",
  "0002-registry",
  "0003-billing",
  "0004-pipeline-claims",
  "0005-sealed-webhook-secrets",
];

/** insufficient_privilege: a failed RLS WITH CHECK and a missing GRANT both raise it. */
const INSUFFICIENT_PRIVILEGE = "42501";
const FOREIGN_KEY_VIOLATION = "23503";
const UNIQUE_VIOLATION = "23505";
const CHECK_VIOLATION = "23514";

class Rollback extends Error {}

interface Seed {
  a: string;
  b: string;
  /** A model and one of its versions per tenant. */
  aModel: string;
  aVersion: string;
  bModel: string;
  bVersion: string;
  /** A well-formed tenant id with no tenant and no rows. */
  nobody: string;
}

export function describeTenantIsolation(engine: Engine): void {
  // Generous timeouts: the machine running the suite may be busy, and PGlite starts in about a second.
  describe(`tenant isolation on ${engine.name}${engine.variant ? ` (${engine.variant})` : ""}`, {
    timeout: 60_000,
  }, () => {
    let handle: DbHandle;
    let dispose: () => Promise<void>;
    let db: Kysely<Database>;
    let seed: Seed;

    beforeAll(async () => {
      ({ handle, dispose } = await engine.open());
      db = handle.db;
      expect(handle.kind).toBe(engine.name);
      await migrateToLatest(db);
      seed = await seedTwoTenants(db);
    }, 60_000);
    afterAll(async () => {
      await dispose?.();
    }, 60_000);

    it("seeded both tenants in every table (as the system role)", async () => {
      for (const table of TABLES) {
        const rows = await systemRows(db, table);
        const owners = new Set(rows.map((r) => r.tenant));
        expect(owners, table).toContain(seed.a);
        expect(owners, table).toContain(seed.b);
      }
    });

    it("a transaction with the app role but no tenant sees zero rows in every table", async () => {
      await db.transaction().execute(async (trx) => {
        await sql`set local role maas_app`.execute(trx);
        for (const table of TABLES) {
          const { rows } = await sql<{ n: bigint }>`select count(*) as n from ${sql.table(table)}`.execute(
            trx,
          );
          expect(rows[0]?.n, table).toBe(0n);
        }
      });
    });

    it("a missing tenant cannot insert", async () => {
      const attempt = db.transaction().execute(async (trx) => {
        await sql`set local role maas_app`.execute(trx);
        await trx
          .insertInto("members")
          .values({ id: newId("mem"), tenant_id: seed.a, subject: "no-tenant", role: "viewer" })
          .execute();
      });
      await expectPgError(attempt, INSUFFICIENT_PRIVILEGE);
    });

    it("the tenant setting does not outlive its transaction on a reused session", async () => {
      // After SET LOCAL ends, Postgres leaves the custom setting as '' (not unset): still no rows.
      await withTenant(db, seed.a, (trx) => trx.selectFrom("members").select("id").execute());
      await db.transaction().execute(async (trx) => {
        await sql`set local role maas_app`.execute(trx);
        const members = await trx.selectFrom("members").select("id").execute();
        expect(members).toEqual([]);
      });
    });

    it("a well-formed but unknown tenant sees nothing", async () => {
      await withTenant(db, seed.nobody, async (trx) => {
        for (const table of TABLES) {
          const { rows } = await sql<{ n: bigint }>`select count(*) as n from ${sql.table(table)}`.execute(
            trx,
          );
          expect(rows[0]?.n, table).toBe(0n);
        }
      });
    });

    it("rejects a malformed tenant id before touching the database", async () => {
      const attempt = withTenant(db, "tnt_A' or true --", async () => "ran");
      await expect(attempt).rejects.toBeInstanceOf(AppError);
      await expect(attempt).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    });

    it("each tenant reads exactly its own rows in every table, even selecting the other's by id", async () => {
      for (const [self, other] of [
        [seed.a, seed.b],
        [seed.b, seed.a],
      ] as const) {
        for (const table of TABLES) {
          const expected = (await systemRows(db, table)).filter((r) => r.tenant === self).map((r) => r.key);
          const seen = await withTenant(db, self, (trx) => scopedRows(trx, table));
          expect(seen.map((r) => r.key).sort(), table).toEqual(expected.sort());
          expect(seen.every((r) => r.tenant === self)).toBe(true);

          const column = table === "tenants" ? "id" : "tenant_id";
          const targeted = await withTenant(db, self, (trx) =>
            sql<{
              n: bigint;
            }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} = ${other}`.execute(
              trx,
            ),
          );
          expect(targeted.rows[0]?.n, `${table} where tenant = other`).toBe(0n);
        }
      }
    });

    it("runs the policy's current_setting once per query (an InitPlan), not per row", async () => {
      const plan = await withTenant(db, seed.a, (trx) =>
        sql<{ "QUERY PLAN": string }>`explain select * from members`.execute(trx),
      );
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/InitPlan/);
    });

    it("updates without where, or aimed at the other tenant, touch only the caller's rows", async () => {
      const before = await systemRows(db, "members");
      const ownCount = before.filter((r) => r.tenant === seed.a).length;
      await inRolledBack(db, seed.a, async (trx) => {
        const all = await trx.updateTable("members").set({ role: "viewer" }).executeTakeFirst();
        expect(all.numUpdatedRows).toBe(BigInt(ownCount));
        const aimed = await trx
          .updateTable("members")
          .set({ role: "owner" })
          .where("tenant_id", "=", seed.b)
          .executeTakeFirst();
        expect(aimed.numUpdatedRows).toBe(0n);
        const keys = await trx
          .updateTable("api_keys")
          .set({ name: "hijacked" })
          .where("tenant_id", "=", seed.b)
          .executeTakeFirst();
        expect(keys.numUpdatedRows).toBe(0n);
      });
      // The rolled-back transaction really did update A's rows (the count above) and B's are untouched.
      expect(await systemRows(db, "members")).toEqual(before);
    });

    it("an update cannot move a row to the other tenant", async () => {
      await expectPgError(
        withTenant(db, seed.a, (trx) =>
          sql`update members set tenant_id = ${seed.b} where tenant_id = ${seed.a}`.execute(trx),
        ),
        INSUFFICIENT_PRIVILEGE,
      );
    });

    it("deletes without where, or aimed at the other tenant, remove only the caller's rows", async () => {
      const beforeKeys = await systemRows(db, "api_keys");
      const beforeMembers = await systemRows(db, "members");
      await inRolledBack(db, seed.a, async (trx) => {
        const aimed = await trx.deleteFrom("members").where("tenant_id", "=", seed.b).executeTakeFirst();
        expect(aimed.numDeletedRows).toBe(0n);
        const all = await trx.deleteFrom("api_keys").executeTakeFirst();
        expect(all.numDeletedRows).toBe(BigInt(beforeKeys.filter((r) => r.tenant === seed.a).length));
        // Inside the transaction the other tenant's keys are still there (seen by nobody but system).
        expect(await trx.selectFrom("api_keys").select("id").execute()).toEqual([]);
      });
      expect(await systemRows(db, "api_keys")).toEqual(beforeKeys);
      expect(await systemRows(db, "members")).toEqual(beforeMembers);
    });

    it("an insert claiming the other tenant fails in every table the app may insert into", async () => {
      const b = seed.b;
      const attempts: [string, (trx: Transaction<Database>) => Promise<unknown>][] = [
        [
          "members",
          (trx) =>
            trx
              .insertInto("members")
              .values({ id: newId("mem"), tenant_id: b, subject: "x", role: "owner" })
              .execute(),
        ],
        [
          "api_keys",
          (trx) =>
            trx
              .insertInto("api_keys")
              .values({
                id: newId("key"),
                tenant_id: b,
                prefix: newId("key"),
                hash: "h",
                role: "owner",
                name: "x",
              })
              .execute(),
        ],
        [
          "audit_log",
          (trx) =>
            trx.insertInto("audit_log").values({ tenant_id: b, actor: "a", action: "forged" }).execute(),
        ],
        [
          "outbox",
          (trx) =>
            trx
              .insertInto("outbox")
              .values({ event_id: newId("evt"), tenant_id: b, topic: "t", event: {} })
              .execute(),
        ],
        [
          "models",
          (trx) =>
            trx
              .insertInto("models")
              .values({ id: newId("mdl"), tenant_id: b, name: "forged" })
              .execute(),
        ],
        [
          "model_versions",
          (trx) =>
            trx
              .insertInto("model_versions")
              .values(versionValues(b, seed.bModel, 99))
              .execute(),
        ],
        [
          "uploads",
          (trx) =>
            trx
              .insertInto("uploads")
              .values(uploadValues(b, seed.bModel, seed.bVersion))
              .execute(),
        ],
        [
          "deployments",
          (trx) =>
            trx
              .insertInto("deployments")
              .values(deploymentValues(b, seed.bModel, seed.bVersion, "forged"))
              .execute(),
        ],
        ["tenant_storage", (trx) => trx.insertInto("tenant_storage").values({ tenant_id: b }).execute()],
        ["webhooks", (trx) => trx.insertInto("webhooks").values(webhookValues(b)).execute()],
        // Usage and invoices are the system role's to write, for any tenant, the caller's own included.
        [
          "usage_events",
          (trx) => trx.insertInto("usage_events").values(usageValues(b, seed.bModel)).execute(),
        ],
        [
          "usage_events (own)",
          (trx) => trx.insertInto("usage_events").values(usageValues(seed.a, seed.aModel)).execute(),
        ],
        [
          "outbox (no tenant)",
          (trx) =>
            trx
              .insertInto("outbox")
              .values({ event_id: newId("evt"), topic: "t", event: {} })
              .execute(),
        ],
      ];
      for (const [name, attempt] of attempts) {
        await expectPgError(withTenant(db, seed.a, attempt), INSUFFICIENT_PRIVILEGE, name);
      }
    });

    it("a tenant's registry rows cannot reference another tenant's model or version", async () => {
      // The composite foreign keys (tenant_id, model_id) → models (tenant_id, id): even knowing B's
      // ids, A's rows can only point at A's own models and versions.
      const attempts: [string, (trx: Transaction<Database>) => Promise<unknown>][] = [
        [
          "version of B's model",
          (trx) =>
            trx
              .insertInto("model_versions")
              .values(versionValues(seed.a, seed.bModel, 50))
              .execute(),
        ],
        [
          "upload of B's version",
          (trx) =>
            trx
              .insertInto("uploads")
              .values(uploadValues(seed.a, seed.aModel, seed.bVersion))
              .execute(),
        ],
        [
          "deployment of B's version",
          (trx) =>
            trx
              .insertInto("deployments")
              .values(deploymentValues(seed.a, seed.aModel, seed.bVersion, "stolen"))
              .execute(),
        ],
      ];
      for (const [name, attempt] of attempts) {
        await expectPgError(withTenant(db, seed.a, attempt), FOREIGN_KEY_VIOLATION, name);
      }
    });

    it("registry names are unique per tenant among live rows, and shared across tenants", async () => {
      const [aModel] = await withTenant(db, seed.a, (trx) =>
        trx.selectFrom("models").select("name").where("id", "=", seed.aModel).execute(),
      );
      expect(aModel?.name).toBeDefined();
      const name = aModel?.name ?? "";
      await expectPgError(
        withTenant(db, seed.a, (trx) =>
          trx
            .insertInto("models")
            .values({ id: newId("mdl"), tenant_id: seed.a, name })
            .execute(),
        ),
        UNIQUE_VIOLATION,
        "duplicate live model name",
      );
      await inRolledBack(db, seed.a, async (trx) => {
        // Soft-deleting frees the name; B may use the same name at any time.
        await trx
          .updateTable("models")
          .set({ deleted_at: new Date() })
          .where("id", "=", seed.aModel)
          .execute();
        await trx
          .insertInto("models")
          .values({ id: newId("mdl"), tenant_id: seed.a, name })
          .execute();
      });
      await inRolledBack(db, seed.b, async (trx) => {
        await trx
          .insertInto("models")
          .values({ id: newId("mdl"), tenant_id: seed.b, name })
          .execute();
      });
      await expectPgError(
        withTenant(db, seed.a, (trx) =>
          trx
            .insertInto("models")
            .values({ id: newId("mdl"), tenant_id: seed.a, name: "Not_A_Label" })
            .execute(),
        ),
        CHECK_VIOLATION,
        "model name that is not a DNS label",
      );
    });

    it("tenant work cannot create tenants, change quotas or its own tenant row", async () => {
      const attempts: [string, (trx: Transaction<Database>) => Promise<unknown>][] = [
        ["create tenant", (trx) => trx.insertInto("tenants").values(tenantValues("evil")).execute()],
        ["raise quota", (trx) => trx.updateTable("quotas").set({ max_qps: 1_000_000 }).execute()],
        ["set own plan", (trx) => trx.updateTable("tenants").set({ plan: "enterprise" }).execute()],
        ["insert quota", (trx) => trx.insertInto("quotas").values({ tenant_id: seed.a }).execute()],
        ["rewrite audit", (trx) => sql`update audit_log set action = 'nothing'`.execute(trx)],
        ["hard-delete a model", (trx) => trx.deleteFrom("models").execute()],
        ["delete a deployment row", (trx) => trx.deleteFrom("deployments").execute()],
        ["delete upload history", (trx) => trx.deleteFrom("uploads").execute()],
      ];
      for (const [name, attempt] of attempts) {
        await expectPgError(withTenant(db, seed.a, attempt), INSUFFICIENT_PRIVILEGE, name);
      }
    });

    it("a tenant writes its own rows and reads them back, with bigint ids and jsonb", async () => {
      const eventId = newId("evt");
      const written = await withTenant(db, seed.a, async (trx) => {
        await trx
          .insertInto("members")
          .values({ id: newId("mem"), tenant_id: seed.a, subject: `sub-${eventId}`, role: "developer" })
          .execute();
        const audit = await trx
          .insertInto("audit_log")
          .values({ tenant_id: seed.a, actor: "sub-1", action: "member.added", details: { eventId } })
          .returning(["id", "details", "created_at"])
          .executeTakeFirstOrThrow();
        const outbox = await trx
          .insertInto("outbox")
          .values({ event_id: eventId, tenant_id: seed.a, topic: "maas.events", event: { id: eventId } })
          .returning(["id", "event"])
          .executeTakeFirstOrThrow();
        return { audit, outbox };
      });
      expect(typeof written.audit.id).toBe("bigint");
      expect(written.audit.details).toEqual({ eventId });
      expect(written.audit.created_at).toBeInstanceOf(Date);
      expect(typeof written.outbox.id).toBe("bigint");
      expect(written.outbox.event).toEqual({ id: eventId });
      const quota = await withTenant(db, seed.a, (trx) =>
        trx.selectFrom("quotas").select("monthly_budget_micros").executeTakeFirstOrThrow(),
      );
      expect(quota.monthly_budget_micros).toBe(25_000_000n);
    });

    it("a tenant cannot read a webhook's secret, only the system role can", async () => {
      await expectPgError(
        withTenant(db, seed.a, (trx) => trx.selectFrom("webhooks").select(["id", "secret"]).execute()),
        INSUFFICIENT_PRIVILEGE,
        "select secret",
      );
      const visible = await withTenant(db, seed.a, (trx) =>
        trx.selectFrom("webhooks").select(["id", "url"]).execute(),
      );
      expect(visible.length).toBe(1);
      const secrets = await withSystem(db, (trx) => trx.selectFrom("webhooks").select("secret").execute());
      expect(secrets.every((r) => r.secret.startsWith("whsec_"))).toBe(true);
    });

    it("a webhook's secret column holds a whsec_ secret or a sealed one, nothing else", async () => {
      const set = (secret: string) =>
        withSystem(db, (trx) =>
          trx.updateTable("webhooks").set({ secret }).where("tenant_id", "=", seed.a).execute(),
        );
      await set("sealed:v1:0123abcd:AAAAAAAAAAAAAAAA:c2VhbGVkLWJvZHktd2l0aC10YWc");
      await expectPgError(set("plain text secret"), CHECK_VIOLATION, "free text");
      await expectPgError(set("sealed:v2:0123abcd:AAAA:BBBB"), CHECK_VIOLATION, "unknown sealing version");
      await set("whsec_c2VjcmV0");
    });

    it("every tenant reads the plan prices, no tenant writes them", async () => {
      const prices = await withTenant(db, seed.a, (trx) =>
        trx.selectFrom("prices").select(["plan", "device"]).execute(),
      );
      expect(prices.map((p) => `${p.plan}/${p.device}`).sort()).toEqual(["default/cpu", "default/gpu"]);
      await expectPgError(
        withTenant(db, seed.a, (trx) =>
          trx.updateTable("prices").set({ per_1k_inferences_micros: 0 }).execute(),
        ),
        INSUFFICIENT_PRIVILEGE,
        "update prices",
      );
    });

    it("an error inside withTenant rolls the whole transaction back", async () => {
      const subject = `rolled-back-${newId("mem")}`;
      await expect(
        withTenant(db, seed.a, async (trx) => {
          await trx
            .insertInto("members")
            .values({ id: newId("mem"), tenant_id: seed.a, subject, role: "viewer" })
            .execute();
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      const found = await withSystem(db, (trx) =>
        trx.selectFrom("members").select("id").where("subject", "=", subject).execute(),
      );
      expect(found).toEqual([]);
    });

    it("refuses to nest a scope inside a transaction", async () => {
      await expect(withTenant(db, seed.a, (trx) => withTenant(trx, seed.b, async () => 1))).rejects.toThrow(
        /root Kysely/,
      );
    });

    it("the system role sees and updates every tenant's rows, including tenant-less outbox rows", async () => {
      const outbox = await systemRows(db, "outbox");
      expect(outbox.some((r) => r.tenant === null)).toBe(true);
      const relayed = await withSystem(db, async (trx) => {
        const pending = await trx
          .selectFrom("outbox")
          .select(["id", "tenant_id"])
          .where("published_at", "is", null)
          .orderBy("id")
          .execute();
        await trx
          .updateTable("outbox")
          .set({ published_at: new Date() })
          .where("published_at", "is", null)
          .execute();
        return pending;
      });
      expect(new Set(relayed.map((r) => r.tenant_id))).toEqual(new Set([seed.a, seed.b, null]));
      const ids = relayed.map((r) => r.id);
      expect(ids).toEqual([...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      const role = await withSystem(db, (trx) => sql<{ u: string }>`select current_user as u`.execute(trx));
      expect(role.rows[0]?.u).toBe("maas_system");
    });

    it("concurrent, deliberately interleaved transactions of two tenants never see each other", async () => {
      const iterations = 40;
      const leaks: string[] = [];
      const outsideRoles = new Set<string>();
      const work = (tenant: string, i: number) =>
        withTenant(db, tenant, async (trx) => {
          const who = await sql<{ t: string; u: string }>`
            select current_setting('app.tenant_id', true) as t, current_user as u`.execute(trx);
          if (who.rows[0]?.t !== tenant || who.rows[0]?.u !== "maas_app") leaks.push(`${tenant}#${i}: scope`);
          await sleep(i % 3);
          await trx
            .insertInto("audit_log")
            .values({ tenant_id: tenant, actor: "concurrency", action: `step-${i}` })
            .execute();
          await sleep((i + 1) % 2);
          for (const table of TENANT_COLUMN_TABLES) {
            const rows = await scopedRows(trx, table);
            if (rows.some((r) => r.tenant !== tenant)) leaks.push(`${tenant}#${i}: ${table}`);
          }
          const own = await scopedRows(trx, "tenants");
          if (own.length !== 1 || own[0]?.key !== tenant) leaks.push(`${tenant}#${i}: tenants`);
        });
      // A query outside any transaction, racing the others: it must run as the connecting user with
      // no tenant, never inside a tenant's transaction on PGlite's single session.
      const outside = async () => {
        const r = await sql<{ t: string | null; u: string }>`
          select current_setting('app.tenant_id', true) as t, current_user as u`.execute(db);
        outsideRoles.add(r.rows[0]?.u ?? "?");
        if (r.rows[0]?.t) leaks.push(`outside saw tenant ${r.rows[0].t}`);
      };
      for (let round = 0; round < iterations; round++) {
        await Promise.all([
          work(seed.a, round),
          work(seed.b, round),
          outside(),
          work(seed.b, round + 1),
          work(seed.a, round + 2),
        ]);
      }
      expect(leaks).toEqual([]);
      expect(outsideRoles.has("maas_app")).toBe(false);
      expect(outsideRoles.has("maas_system")).toBe(false);
      const counts = await withSystem(db, (trx) =>
        trx
          .selectFrom("audit_log")
          .select(["tenant_id", (eb) => eb.fn.countAll<bigint>().as("n")])
          .where("actor", "=", "concurrency")
          .groupBy("tenant_id")
          .execute(),
      );
      expect(Object.fromEntries(counts.map((c) => [c.tenant_id, c.n]))).toEqual({
        [seed.a]: BigInt(iterations * 2),
        [seed.b]: BigInt(iterations * 2),
      });
    });

    it("migrations go up, down and up again; a second up is a no-op", async () => {
      const fresh = await engine.open();
      try {
        const fdb = fresh.handle.db;
        const first = await migrateToLatest(fdb);
        expect(first.results.map((r) => [r.migrationName, r.status])).toEqual(
          MIGRATIONS.map((name) => [name, "Success"]),
        );
        expect((await migrateToLatest(fdb)).results).toEqual([]);
        expect(await existingTables(fdb)).toEqual([...TABLES].sort());

        // One step at a time, newest first, each leaving exactly the earlier migrations' tables.
        // 0005 only widens a check, 0004 only adds columns to model_versions: their downs leave
        // every table.
        const downSealed = await migrateDown(fdb);
        expect(downSealed.results.map((r) => [r.migrationName, r.direction])).toEqual([
          ["0005-sealed-webhook-secrets", "Down"],
        ]);
        expect(await existingTables(fdb)).toEqual([...TABLES].sort());
        const downClaims = await migrateDown(fdb);
        expect(downClaims.results.map((r) => [r.migrationName, r.direction])).toEqual([
          ["0004-pipeline-claims", "Down"],
        ]);
        expect(await existingTables(fdb)).toEqual([...TABLES].sort());
        expect(await columnsOf(fdb, "model_versions")).not.toContain("validation_attempts");
        const downBilling = await migrateDown(fdb);
        expect(downBilling.results.map((r) => [r.migrationName, r.direction])).toEqual([
          ["0003-billing", "Down"],
        ]);
        expect(await existingTables(fdb)).toEqual([...TENANCY_TABLES, ...REGISTRY_TABLES].sort());
        const downRegistry = await migrateDown(fdb);
        expect(downRegistry.results.map((r) => [r.migrationName, r.direction])).toEqual([
          ["0002-registry", "Down"],
        ]);
        expect(await existingTables(fdb)).toEqual([...TENANCY_TABLES].sort());
        const down = await migrateDown(fdb);
        expect(down.results.map((r) => [r.migrationName, r.direction])).toEqual([["0001-tenancy", "Down"]]);
        expect(await existingTables(fdb)).toEqual([]);
        expect((await migrationStatus(fdb)).map((m) => m.executedAt)).toEqual(
          MIGRATIONS.map(() => undefined),
        );

        // Roles survive the down migration (cluster-wide); the second up must accept them.
        await migrateToLatest(fdb);
        expect(await existingTables(fdb)).toEqual([...TABLES].sort());
        const status = await migrationStatus(fdb);
        expect(status[0]?.executedAt).toBeInstanceOf(Date);
        const seeded = await seedTwoTenants(fdb);
        const rls = await sql<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>`
          select relname, relrowsecurity, relforcerowsecurity from pg_class
          where relname in (${sql.join([...TABLES])}) and relkind = 'r'`.execute(fdb);
        expect(rls.rows.every((r) => r.relrowsecurity && r.relforcerowsecurity)).toBe(true);
        const seen = await withTenant(fdb, seeded.b, (trx) =>
          trx.selectFrom("members").select("tenant_id").execute(),
        );
        expect(new Set(seen.map((r) => r.tenant_id))).toEqual(new Set([seeded.b]));
      } finally {
        await fresh.dispose();
      }
    });

    it("the connecting user, querying outside the helpers, sees everything only if superuser", async () => {
      const { rows } = await sql<{ su: boolean }>`
        select rolsuper as su from pg_roles where rolname = current_user`.execute(db);
      const members = await db.selectFrom("members").select("tenant_id").execute();
      if (rows[0]?.su) {
        // A superuser bypasses RLS (PGlite's user, a dev server's): only the helpers' role switch applies it.
        expect(members.length).toBeGreaterThan(0);
      } else {
        // FORCE ROW LEVEL SECURITY, and the inherited system policy demands current_user = maas_system.
        expect(members).toEqual([]);
      }
    });

    it("the app roles cannot log in, bypass RLS or be superuser", async () => {
      const { rows } = await sql<{
        rolname: string;
        rolcanlogin: boolean;
        rolbypassrls: boolean;
        rolsuper: boolean;
      }>`
        select rolname, rolcanlogin, rolbypassrls, rolsuper from pg_roles
        where rolname in ('maas_app', 'maas_system') order by rolname`.execute(db);
      expect(rows).toEqual([
        { rolname: "maas_app", rolcanlogin: false, rolbypassrls: false, rolsuper: false },
        { rolname: "maas_system", rolcanlogin: false, rolbypassrls: false, rolsuper: false },
      ]);
    });
  });
}

function tenantValues(slug: string) {
  return { id: newId("tnt"), slug: `${slug}-${Math.random().toString(36).slice(2, 8)}`, name: slug };
}

/** Two tenants with rows in every table, plus one tenant-less outbox row; as the system role. */
async function seedTwoTenants(db: Kysely<Database>): Promise<Seed> {
  return withSystem(db, async (trx) => {
    const ids: string[] = [];
    const registry: { model: string; version: string }[] = [];
    for (const [slug, members, keys] of [
      ["alpha", 3, 2],
      ["bravo", 2, 1],
    ] as const) {
      const tenant = tenantValues(slug);
      ids.push(tenant.id);
      await trx.insertInto("tenants").values(tenant).execute();
      await trx
        .insertInto("quotas")
        .values({ tenant_id: tenant.id, monthly_budget_micros: 25_000_000n })
        .execute();
      for (let i = 0; i < members; i++) {
        await trx
          .insertInto("members")
          .values({
            id: newId("mem"),
            tenant_id: tenant.id,
            subject: `user-${i}`,
            role: i === 0 ? "owner" : "developer",
          })
          .execute();
      }
      for (let i = 0; i < keys; i++) {
        await trx
          .insertInto("api_keys")
          .values({
            id: newId("key"),
            tenant_id: tenant.id,
            prefix: `mk_${newId("key").slice(-12)}`,
            hash: "sha256:…",
            role: "admin",
            name: `key ${i}`,
          })
          .execute();
      }
      await trx
        .insertInto("audit_log")
        .values({ tenant_id: tenant.id, actor: "seed", action: "tenant.created" })
        .execute();
      await trx
        .insertInto("outbox")
        .values({
          event_id: newId("evt"),
          tenant_id: tenant.id,
          topic: "maas.events",
          event: { type: "seed" },
        })
        .execute();
      const model = newId("mdl");
      await trx
        .insertInto("models")
        .values({ id: model, tenant_id: tenant.id, name: `${slug}-model` })
        .execute();
      const version = versionValues(tenant.id, model, 1);
      await trx.insertInto("model_versions").values(version).execute();
      await trx
        .insertInto("uploads")
        .values(uploadValues(tenant.id, model, version.id))
        .execute();
      await trx
        .insertInto("deployments")
        .values(deploymentValues(tenant.id, model, version.id, `${slug}-live`))
        .execute();
      await trx
        .insertInto("tenant_storage")
        .values({ tenant_id: tenant.id, reserved_bytes: 1024n })
        .execute();
      await trx.insertInto("usage_events").values(usageValues(tenant.id, model)).execute();
      await trx
        .insertInto("usage_hourly")
        .values({
          tenant_id: tenant.id,
          model_id: model,
          hour: "2026-01-01T10:00:00Z",
          requests: 1,
          cost_micros: 60,
        })
        .execute();
      const invoice = newId("inv");
      await trx
        .insertInto("invoices")
        .values({
          id: invoice,
          tenant_id: tenant.id,
          period: "2026-01",
          currency: "EUR",
          requests: 1,
          total_micros: 60,
          period_start: "2026-01-01T00:00:00Z",
          period_end: "2026-02-01T00:00:00Z",
        })
        .execute();
      await trx
        .insertInto("invoice_lines")
        .values({
          tenant_id: tenant.id,
          invoice_id: invoice,
          model_id: model,
          description: "seed",
          quantity: 1,
          compute_ms: 1,
          unit_price_micros: 60,
          amount_micros: 60,
        })
        .execute();
      const webhook = webhookValues(tenant.id);
      await trx.insertInto("webhooks").values(webhook).execute();
      await trx
        .insertInto("webhook_deliveries")
        .values({
          tenant_id: tenant.id,
          webhook_id: webhook.id,
          event_id: newId("evt"),
          event_type: "io.maas.invoice.issued.v1",
          payload: {},
        })
        .execute();
      registry.push({ model, version: version.id });
    }
    await trx
      .insertInto("outbox")
      .values({ event_id: newId("evt"), tenant_id: null, topic: "maas.events", event: { type: "platform" } })
      .execute();
    const [a, b] = ids as [string, string];
    const [ra, rb] = registry as [{ model: string; version: string }, { model: string; version: string }];
    return {
      a,
      b,
      aModel: ra.model,
      aVersion: ra.version,
      bModel: rb.model,
      bVersion: rb.version,
      nobody: newId("tnt"),
    };
  });
}

function versionValues(tenantId: string, modelId: string, version: number) {
  return {
    id: newId("mver"),
    tenant_id: tenantId,
    model_id: modelId,
    version,
    size_bytes: 1024n,
    sha256: "0".repeat(64),
    object_key: `tenants/${tenantId}/models/${modelId}/${version}/fp32.onnx`,
  };
}

function uploadValues(tenantId: string, modelId: string, versionId: string) {
  return {
    id: newId("upl"),
    tenant_id: tenantId,
    model_id: modelId,
    version_id: versionId,
    object_key: `tenants/${tenantId}/models/${modelId}/${versionId}/fp32.onnx`,
    s3_upload_id: "s3-upload",
    size_bytes: 1024n,
    sha256: "0".repeat(64),
    part_size: 8n * 1024n * 1024n,
    part_count: 1,
    expires_at: new Date(Date.now() + 86_400_000),
  };
}

function usageValues(tenantId: string, modelId: string) {
  return {
    source: "/seed",
    event_id: newId("evt"),
    tenant_id: tenantId,
    model_id: modelId,
    version_id: "mver_seed",
    deployment_id: "dep_seed",
    request_id: "req_seed",
    occurred_at: "2026-01-01T10:00:00Z",
    items: 1,
    compute_ms: 1,
    cost_micros: 60,
    device: "cpu" as const,
    status: "ok" as const,
    period: "2026-01",
  };
}

function webhookValues(tenantId: string) {
  return {
    id: newId("evt").replace(/^evt_/, "whk_"),
    tenant_id: tenantId,
    url: "https://hooks.example/maas",
    secret: "whsec_c2VjcmV0",
    event_types: "[]",
  };
}

function deploymentValues(tenantId: string, modelId: string, versionId: string, name: string) {
  return { id: newId("dep"), tenant_id: tenantId, model_id: modelId, version_id: versionId, name };
}

interface OwnedRow {
  key: string;
  tenant: string | null;
}

/** Every row of a table as (primary key, owning tenant), read through whatever scope `trx` has. */
async function scopedRows(trx: Kysely<Database>, table: Table): Promise<OwnedRow[]> {
  const key =
    table === "quotas" || table === "tenant_storage"
      ? sql.ref("tenant_id")
      : table === "usage_events"
        ? sql.ref("event_id")
        : table === "usage_hourly"
          ? sql`model_id || '@' || hour::text`
          : sql.ref("id");
  const tenant = table === "tenants" ? "id" : "tenant_id";
  const { rows } = await sql<OwnedRow>`
    select ${key}::text as key, ${sql.ref(tenant)} as tenant from ${sql.table(table)} order by 1`.execute(
    trx,
  );
  return rows;
}

function systemRows(db: Kysely<Database>, table: Table): Promise<OwnedRow[]> {
  return withSystem(db, (trx) => scopedRows(trx, table));
}

/** Runs tenant work and rolls it back, so a destructive test leaves the seed intact. */
async function inRolledBack(
  db: Kysely<Database>,
  tenant: string,
  fn: (trx: Transaction<Database>) => Promise<void>,
) {
  await expect(
    withTenant(db, tenant, async (trx) => {
      await fn(trx);
      throw new Rollback();
    }),
  ).rejects.toBeInstanceOf(Rollback);
}

async function columnsOf(db: Kysely<Database>, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select column_name as name from information_schema.columns
    where table_schema = 'public' and table_name = ${table} order by 1`.execute(db);
  return rows.map((r) => r.name);
}

async function existingTables(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_name in (${sql.join([...TABLES])}) order by 1`.execute(db);
  return rows.map((r) => r.name);
}

async function expectPgError(promise: Promise<unknown>, code: string, label?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${label ?? "query"} should have failed`).toBeDefined();
  expect((error as { code?: unknown }).code, `${label ?? "query"}: ${(error as Error).message}`).toBe(code);
}
