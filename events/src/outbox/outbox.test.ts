import { createDb, type DbHandle, migrateToLatest, withSystem, withTenant } from "@maas/db";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MaasEvent } from "../event/maas-event.js";
import { MemoryPublisher } from "../publish/memory-publisher.js";
import type { EventPublisher } from "../publish/publisher.js";
import { sampleTenantCreated } from "../testing/fixtures.js";
import { waitFor } from "../testing/infra.js";
import { OutboxRelay } from "./outbox-relay.js";
import { writeOutbox } from "./write-outbox.js";

const quiet = { warn: () => {}, error: () => {} };

describe("outbox on embedded PGlite", () => {
  let handle: DbHandle;

  beforeAll(async () => {
    handle = createDb({});
    await migrateToLatest(handle.db);
    await withSystem(handle.db, (trx) =>
      trx.insertInto("tenants").values({ id: "tnt_acme", slug: "acme", name: "Acme" }).execute(),
    );
    // PGlite boots a WASM Postgres and migrates: seconds on a busy machine.
  }, 60_000);
  afterAll(() => handle.close());
  beforeEach(async () => {
    await withSystem(handle.db, (trx) => trx.deleteFrom("outbox").execute());
    await withSystem(handle.db, (trx) => trx.deleteFrom("audit_log").execute());
  });

  async function unpublished(): Promise<string[]> {
    const rows = await withSystem(handle.db, (trx) =>
      trx.selectFrom("outbox").select("event_id").where("published_at", "is", null).orderBy("id").execute(),
    );
    return rows.map((r) => r.event_id);
  }

  /** A tenant-scoped state change (an audit row) and its event, in one transaction. */
  async function changeWithEvent(ev: MaasEvent, fail = false): Promise<void> {
    await withTenant(handle.db, "tnt_acme", async (trx) => {
      await trx
        .insertInto("audit_log")
        .values({ tenant_id: "tnt_acme", actor: "test", action: ev.type })
        .execute();
      await writeOutbox(trx, [ev]);
      if (fail) throw new Error("rolled back");
    });
  }

  it("commits the state change and its event together, and relays the event once", async () => {
    const ev = sampleTenantCreated();
    await changeWithEvent(ev);
    const row = await withSystem(handle.db, (trx) =>
      trx.selectFrom("outbox").selectAll().executeTakeFirstOrThrow(),
    );
    expect(row).toMatchObject({
      event_id: ev.id,
      tenant_id: "tnt_acme",
      topic: "maas.events",
      published_at: null,
    });
    expect(row.event).toEqual(JSON.parse(JSON.stringify(ev.toJSON())));

    const publisher = new MemoryPublisher();
    const relay = new OutboxRelay({ db: handle.db, publisher, logger: quiet });
    expect(await relay.relayOnce()).toBe(1);
    expect(await relay.relayOnce()).toBe(0);
    expect(publisher.published.map((e) => e.toJSON())).toEqual([ev.toJSON()]);
    expect(await unpublished()).toEqual([]);
  });

  it("rolls back the event with the state change", async () => {
    await expect(changeWithEvent(sampleTenantCreated(), true)).rejects.toThrow("rolled back");
    const counts = await withSystem(handle.db, async (trx) => ({
      outbox: (await trx.selectFrom("outbox").selectAll().execute()).length,
      audit: (await trx.selectFrom("audit_log").selectAll().execute()).length,
    }));
    expect(counts).toEqual({ outbox: 0, audit: 0 });
  });

  it("refuses, under RLS, an event of another tenant in a tenant transaction", async () => {
    const other = sampleTenantCreated({ tenantId: "tnt_other" });
    await expect(withTenant(handle.db, "tnt_acme", (trx) => writeOutbox(trx, [other]))).rejects.toThrow();
    expect(await unpublished()).toEqual([]);
  });

  it("refuses the same event id twice", async () => {
    const ev = sampleTenantCreated();
    await changeWithEvent(ev);
    await expect(changeWithEvent(ev)).rejects.toThrow();
    expect(await unpublished()).toEqual([ev.id]);
  });

  it("keeps rows when the publisher fails and publishes them after it recovers, in order", async () => {
    const a = sampleTenantCreated();
    const b = sampleTenantCreated();
    await changeWithEvent(a);
    await changeWithEvent(b);
    const publisher = new MemoryPublisher();
    publisher.failWith = new Error("kafka down");
    const relay = new OutboxRelay({ db: handle.db, publisher, logger: quiet });
    await expect(relay.relayOnce()).rejects.toThrow("kafka down");
    expect(await unpublished()).toEqual([a.id, b.id]);
    publisher.failWith = undefined;
    expect(await relay.relayOnce()).toBe(2);
    expect(publisher.published.map((e) => e.id)).toEqual([a.id, b.id]);
  });

  it("republishes when the relay dies between publish and mark (consumers dedupe by id)", async () => {
    const ev = sampleTenantCreated();
    await changeWithEvent(ev);
    const delivered: MaasEvent[] = [];
    let crash = true;
    const crashingAfterPublish: EventPublisher = {
      async publish(events) {
        delivered.push(...events);
        if (crash) throw new Error("relay killed after publish");
      },
    };
    const relay = new OutboxRelay({ db: handle.db, publisher: crashingAfterPublish, logger: quiet });
    await expect(relay.relayOnce()).rejects.toThrow("relay killed");
    expect(await unpublished()).toEqual([ev.id]);
    crash = false;
    expect(await relay.relayOnce()).toBe(1);
    expect(delivered.map((e) => e.id)).toEqual([ev.id, ev.id]);
    expect(new Set(delivered.map((e) => e.id)).size).toBe(1);
    expect(await unpublished()).toEqual([]);
  });

  it("runs as a loop: backs off while failing, drains after recovery, stops cleanly", async () => {
    const events = [sampleTenantCreated(), sampleTenantCreated(), sampleTenantCreated()];
    for (const ev of events) await changeWithEvent(ev);
    const attempts: number[] = [];
    const publisher = new MemoryPublisher();
    const failing: EventPublisher = {
      async publish(evs) {
        attempts.push(Date.now());
        if (attempts.length <= 3) throw new Error("kafka down");
        await publisher.publish(evs);
      },
    };
    const relay = new OutboxRelay({
      db: handle.db,
      publisher: failing,
      batchSize: 2,
      pollIntervalMs: 10,
      retryBackoff: { initialMs: 20, maxMs: 1_000 },
      logger: quiet,
    });
    relay.start();
    await waitFor("all relayed", () => publisher.published.length === 3, 10_000);
    await relay.stop();
    expect(publisher.published.map((e) => e.id)).toEqual(events.map((e) => e.id));
    // Backoff doubles: gaps between failed attempts grow (20, 40, 80 ms nominal).
    const gaps = attempts.slice(1, 4).map((t, i) => t - (attempts[i] as number));
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(70);
    expect(relay.failures).toBe(0);
    expect(await unpublished()).toEqual([]);
  });
});
