import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeHttp } from "../codec/http.js";
import { sampleTenantCreated } from "../testing/fixtures.js";
import { DeliveryError } from "./delivery-error.js";
import { HttpPublisher } from "./http-publisher.js";
import { postEvent } from "./post-event.js";

describe("postEvent / HttpPublisher (local HTTP sink)", () => {
  let server: Server;
  let url: string;
  let answer = 202;
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        got.push({ headers: req.headers, body });
        if (req.url === "/slow") return void setTimeout(() => res.end(), 1_000);
        res.statusCode = answer;
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("POSTs binary mode by default, and the receiver decodes the same event", async () => {
    const ev = sampleTenantCreated();
    const res = await postEvent(url, ev, { headers: { authorization: "Bearer t" } });
    expect(res).toMatchObject({ status: 202, body: "ok", headers: { "content-length": "2" } });
    const last = got.at(-1)!;
    expect(last.headers["ce-id"]).toBe(ev.id);
    expect(last.headers.authorization).toBe("Bearer t");
    expect(decodeHttp(last.headers, last.body).toJSON()).toEqual(ev.toJSON());
  });

  it("POSTs structured mode when asked", async () => {
    const ev = sampleTenantCreated();
    await postEvent(url, ev, { mode: "structured" });
    expect(got.at(-1)?.headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
  });

  it("returns HTTP statuses, throws retriable DeliveryError on timeouts and refused connections", async () => {
    answer = 400;
    expect((await postEvent(url, sampleTenantCreated())).status).toBe(400);
    answer = 202;
    const timeout = await postEvent(`${url}/slow`, sampleTenantCreated(), { timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(timeout).toBeInstanceOf(DeliveryError);
    expect((timeout as DeliveryError).retriable).toBe(true);
    const refused = await postEvent("http://127.0.0.1:1/", sampleTenantCreated()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DeliveryError);
  });

  it("HttpPublisher turns non-2xx into DeliveryError, retriable only for 5xx/408/429", async () => {
    const publisher = new HttpPublisher(url);
    answer = 202;
    await publisher.publish([sampleTenantCreated(), sampleTenantCreated()]);
    answer = 503;
    const e503 = (await publisher.publish([sampleTenantCreated()]).catch((e: unknown) => e)) as DeliveryError;
    expect([e503.status, e503.retriable]).toEqual([503, true]);
    answer = 422;
    const e422 = (await publisher.publish([sampleTenantCreated()]).catch((e: unknown) => e)) as DeliveryError;
    expect([e422.status, e422.retriable]).toEqual([422, false]);
    answer = 202;
  });
});
