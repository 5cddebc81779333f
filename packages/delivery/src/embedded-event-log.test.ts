import { createEvent, events, type MaasEvent } from "@maas/events";
import { describe, expect, it } from "vitest";
import { EmbeddedEventLog } from "./embedded-event-log.js";

function tenantEvent(tenant: string, n: number): MaasEvent {
  return createEvent(events.tenantCreated, {
    source: "/test",
    data: { tenantId: tenant, slug: `s${n}`, name: `n${n}`, plan: "free" },
  });
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("EmbeddedEventLog", () => {
  it("keeps one partition key's events in order on one partition", async () => {
    const log = new EmbeddedEventLog({ partitions: 4 });
    const seen: { id: string; partition: number }[] = [];
    await log.subscribe(
      "t",
      "g",
      async (ev, meta) => void seen.push({ id: ev.id, partition: meta.partition }),
      {
        fromBeginning: true,
      },
    );
    const sent = Array.from({ length: 10 }, (_, i) => tenantEvent("tnt_a", i));
    await log.append("t", sent);
    await until(() => seen.length === 10);
    expect(seen.map((s) => s.id)).toEqual(sent.map((e) => e.id));
    expect(new Set(seen.map((s) => s.partition)).size).toBe(1);
    await log.close();
  });

  it("commits only after the handler resolves and redelivers after a failure", async () => {
    const log = new EmbeddedEventLog({ partitions: 1, redeliveryDelayMs: 5 });
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await log.subscribe(
      "t",
      "g",
      async () => {
        calls += 1;
        if (calls === 1) throw new Error("first try fails");
        await gate;
      },
      { fromBeginning: true },
    );
    await log.append("t", [tenantEvent("tnt_a", 1)]);
    await until(() => calls === 2);
    expect(log.committed("t", "g")).toEqual([0]);
    release();
    await until(() => log.committed("t", "g")[0] === 1);
    expect(calls).toBe(2);
    await log.close();
  });

  it("resumes a group from its committed offset; a new group starts at the end unless fromBeginning", async () => {
    const log = new EmbeddedEventLog({ partitions: 1 });
    await log.append("t", [tenantEvent("tnt_a", 1)]);
    const first: string[] = [];
    const sub = await log.subscribe("t", "g", async (ev) => void first.push(ev.id), { fromBeginning: true });
    await until(() => first.length === 1);
    await sub.stop();
    const late = tenantEvent("tnt_a", 2);
    await log.append("t", [late]);
    const second: string[] = [];
    await log.subscribe("t", "g", async (ev) => void second.push(ev.id));
    const fresh: string[] = [];
    await log.subscribe("t", "other", async (ev) => void fresh.push(ev.id));
    await until(() => second.length === 1);
    expect(second).toEqual([late.id]);
    const third = tenantEvent("tnt_a", 3);
    await log.append("t", [third]);
    await until(() => fresh.length === 1);
    expect(fresh).toEqual([third.id]);
    await expect(log.subscribe("t", "g", async () => {})).rejects.toThrow(/one consumer per group/);
    await log.close();
  });
});
