import { createEvent, encodeHttpBinary, events } from "@maas/events";
import { itBehavesLikeAFunction } from "@maas/runtime/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../test/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
}, 60_000);
afterAll(() => h.close());

describe("control", () => {
  itBehavesLikeAFunction("control", () => h.fn);

  it("handles no events: an event gets 400 (not retried), never 404", async () => {
    const m = encodeHttpBinary(
      createEvent(events.tenantCreated, {
        source: "/test",
        data: { tenantId: "tnt_acme", slug: "acme", name: "Acme Inc", plan: "free" },
      }),
    );
    const res = await h.fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
    expect(res.status).toBe(400);
  });

  it("serves an OpenAPI 3.1 document listing every /v1 route with its security", async () => {
    const res = await h.fn.app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ p, m, op })),
    );
    expect(operations.map((o) => `${o.m.toUpperCase()} ${o.p}`)).toEqual(
      expect.arrayContaining([
        "POST /v1/tenants",
        "POST /v1/models/{model}/uploads",
        "PUT /v1/uploads/{uploadId}/parts/{partNumber}",
        "POST /v1/uploads/{uploadId}/complete",
        "DELETE /v1/deployments/{deploymentId}",
        "GET /v1/audit",
      ]),
    );
    expect(operations.length).toBeGreaterThanOrEqual(24);
    for (const { op } of operations) {
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403"]));
    }
  });

  it("serves the docs page and its Swagger UI assets from the package, not a CDN", async () => {
    const page = await (await h.fn.app.request("/docs")).text();
    expect(page).toContain('<div id="swagger-ui">');
    expect(page).not.toMatch(/https?:\/\//);
    const js = await h.fn.app.request("/docs/swagger-ui-bundle.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await h.fn.app.request("/docs/init.js")).status).toBe(200);
    expect((await h.fn.app.request("/docs/package.json")).status).toBe(404);
  });
});
