import { beforeAll, describe, expect, it } from "vitest";
import type { Harness, Seeded } from "./harness.js";
import { json } from "./harness.js";
import { type Resources, seedResources } from "./resources.js";
import { type Group, ROUTE_CASES, type RouteCase, roleBelow } from "./route-cases.js";

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } };
}

/**
 * The security suite of one resource group, per route: no key → 401, wrong role → 403, another
 * tenant's resource → 404, bad input → 400 naming the field; and on every one of them nothing is
 * written (row counts, statuses, storage bytes, audit log and outbox all unchanged).
 */
export function securitySuite(group: Group, harness: () => Harness): void {
  let h: Harness;
  let a: Seeded;
  let b: Seeded;
  let aRes: Resources;
  let bRes: Resources;
  let operator: string;

  beforeAll(async () => {
    h = harness();
    a = await h.seedTenant();
    b = await h.seedTenant();
    aRes = await seedResources(h, a);
    bRes = await seedResources(h, b);
    operator = await h.operatorToken();
  }, 60_000);

  async function send(
    c: RouteCase,
    key: string | undefined,
    res: Resources,
    override?: { path?: string; body?: unknown },
  ) {
    const path = override?.path ?? c.path(res);
    if (c.raw !== undefined && override?.body === undefined) {
      return h.request(c.method, path, {
        ...(key === undefined ? {} : { key }),
        raw: new Uint8Array(c.raw.bytes),
        headers: { "content-type": "application/octet-stream", "content-length": String(c.raw.bytes) },
      });
    }
    const body = override?.body ?? c.body?.(res);
    return h.request(c.method, path, {
      ...(key === undefined ? {} : { key }),
      ...(body === undefined ? {} : { body }),
    });
  }

  async function expectNothingWritten(
    run: () => Promise<Response>,
    status: number,
    code?: string,
  ): Promise<ErrorBody> {
    const before = await h.snapshot();
    const res = await run();
    const body = await json<ErrorBody>(res);
    expect(res.status, JSON.stringify(body)).toBe(status);
    if (code !== undefined) expect(body.error.code).toBe(code);
    expect(await h.snapshot()).toEqual(before);
    return body;
  }

  for (const c of ROUTE_CASES.filter((x) => x.group === group)) {
    const name = `${c.method} ${c.path({ tenantId: "{tenant}", modelId: "{model}", modelName: "", versionId: "", uploadId: "{upload}", deploymentId: "{deployment}", memberId: "{member}", keyId: "{key}" })}`;
    describe(name, () => {
      it("no key → 401, nothing written", async () => {
        await expectNothingWritten(() => send(c, undefined, aRes), 401, "UNAUTHENTICATED");
      });

      it("a wrong key → 401, nothing written", async () => {
        const forged = `${a.keys.owner.slice(0, -4)}AAAA`;
        await expectNothingWritten(() => send(c, forged, aRes), 401, "UNAUTHENTICATED");
      });

      it("wrong role → 403, nothing written", async () => {
        if (c.least === "operator") {
          await expectNothingWritten(() => send(c, a.keys.owner, aRes), 403, "FORBIDDEN");
          return;
        }
        const below = roleBelow(c.least);
        // Every tenant role may call it: an operator token, which holds no tenant role, may not.
        const key = below === undefined ? operator : a.keys[below];
        await expectNothingWritten(() => send(c, key, aRes), 403, "FORBIDDEN");
      });

      if (c.addressesResource) {
        it("another tenant's resource → 404, nothing written", async () => {
          const allowed = a.keys[c.least === "operator" ? "owner" : c.least];
          await expectNothingWritten(() => send(c, allowed, bRes), 404, "NOT_FOUND");
        });
      }

      const invalid = c.invalid;
      if (invalid !== undefined) {
        it("bad input → 400 naming the field, nothing written", async () => {
          const key = c.least === "operator" ? operator : a.keys[c.least];
          const override = {
            ...(invalid.path === undefined ? {} : { path: invalid.path(aRes) }),
            ...(invalid.body === undefined ? {} : { body: invalid.body }),
          };
          const body = await expectNothingWritten(
            () => send(c, key, aRes, override),
            400,
            "VALIDATION_FAILED",
          );
          expect(body.error.details?.issues?.map((i) => i.path)).toContain(invalid.field);
          expect(body.error.message).toContain(invalid.field);
        });
      }
    });
  }
}
