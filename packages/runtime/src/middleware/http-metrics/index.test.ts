import { Hono } from "hono";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../types.js";
import { httpMetrics, UNMATCHED_ROUTE } from "./index.js";

function setup() {
  const registry = new Registry();
  const app = new Hono<AppEnv>();
  app.use(httpMetrics({ registry, functionName: "control" }));
  app.get("/v1/models/:id", (c) => c.json({ id: c.req.param("id") }));
  app.use("/v1/secret/*", async (c) => c.json({ error: "no" }, 401));
  app.get("/v1/secret/:id", (c) => c.text("never"));
  return { app, registry };
}

async function values(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} not registered`);
  return (await metric.get()).values;
}

describe("httpMetrics", () => {
  it("labels requests with the route pattern, not the raw path", async () => {
    const { app, registry } = setup();
    await app.request("/v1/models/mdl_1");
    await app.request("/v1/models/mdl_2");
    const counts = await values(registry, "http_requests_total");
    expect(counts).toEqual([
      {
        value: 2,
        labels: { function: "control", method: "GET", route: "/v1/models/:id", status: "200" },
      },
    ]);
    const text = await registry.metrics();
    expect(text).not.toContain("mdl_1");
  });

  it("observes durations in the histogram with the same labels", async () => {
    const { app, registry } = setup();
    await app.request("/v1/models/mdl_1");
    const hist = await values(registry, "http_request_duration_seconds");
    const count = hist.find(
      (v) => (v as { metricName?: string }).metricName === "http_request_duration_seconds_count",
    );
    expect(count?.value).toBe(1);
    expect(count?.labels.route).toBe("/v1/models/:id");
  });

  it("attributes a middleware's early answer to the route it guarded", async () => {
    const { app, registry } = setup();
    const res = await app.request("/v1/secret/s1");
    expect(res.status).toBe(401);
    const counts = await values(registry, "http_requests_total");
    expect(counts[0]?.labels).toMatchObject({ route: "/v1/secret/:id", status: "401" });
  });

  it("folds unmatched paths into one label so callers cannot mint series", async () => {
    const { app, registry } = setup();
    await app.request("/random/a");
    await app.request("/random/b");
    const counts = await values(registry, "http_requests_total");
    expect(counts).toEqual([
      { value: 2, labels: { function: "control", method: "GET", route: UNMATCHED_ROUTE, status: "404" } },
    ]);
  });

  it("shares metrics when two apps use one registry", () => {
    const registry = new Registry();
    httpMetrics({ registry, functionName: "a" });
    expect(() => httpMetrics({ registry, functionName: "b" })).not.toThrow();
  });
});
