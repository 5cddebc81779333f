import { encodeHttpBinary, type MaasEvent } from "@maas/events";
import { expect, it } from "vitest";
import type { MaasFunction } from "../create-function.js";

/** Delivers one event to a function's receiver as the broker would: binary-mode CloudEvent over POST /. */
export function postEvent(fn: MaasFunction, event: MaasEvent): Promise<Response> {
  const m = encodeHttpBinary(event);
  return Promise.resolve(fn.app.request("/", { method: "POST", headers: m.headers, body: m.body }));
}

/**
 * What every function built with createFunction must do, asserted once for each of them: live at
 * once, ready only when told, metrics labelled with its name, one error body for unknown routes.
 *
 * @example
 * describe("metering", () => {
 *   itBehavesLikeAFunction("metering", () => setup().fn);
 * });
 */
export function itBehavesLikeAFunction(name: string, make: () => MaasFunction): void {
  it("is live at once and ready only when told", async () => {
    const fn = make();
    expect((await fn.app.request("/healthz")).status).toBe(200);
    expect((await fn.app.request("/readyz")).status).toBe(503);
    fn.setReady(true);
    expect((await fn.app.request("/readyz")).status).toBe(200);
  });

  it("exposes its metrics, labelled with its name", async () => {
    const fn = make();
    await fn.app.request("/healthz");
    const text = await (await fn.app.request("/metrics")).text();
    expect(text).toContain(
      `http_requests_total{function="${name}",method="GET",route="/healthz",status="200"}`,
    );
  });

  it("answers unknown routes with the one error body", async () => {
    const fn = make();
    const res = await fn.app.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });
}
