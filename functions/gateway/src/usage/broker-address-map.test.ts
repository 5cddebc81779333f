import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { mappedSocketFactory, parseBrokerAddressMap } from "./broker-address-map.js";

describe("KAFKA_BROKER_ADDRESS_MAP", () => {
  it("parses advertised=reachable pairs and refuses anything else", () => {
    expect(parseBrokerAddressMap(undefined).size).toBe(0);
    expect(parseBrokerAddressMap(" a:9092=127.0.0.1:1, b:9092 = 127.0.0.1:2 ")).toEqual(
      new Map([
        ["a:9092", "127.0.0.1:1"],
        ["b:9092", "127.0.0.1:2"],
      ]),
    );
    expect(() => parseBrokerAddressMap("a:9092")).toThrow(/host:port=host:port/);
    expect(() => parseBrokerAddressMap("a=b:1")).toThrow();
  });

  it("dials the mapped address instead of the advertised one", async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const factory = mappedSocketFactory(
      parseBrokerAddressMap(`kafka-0.nowhere.invalid:9092=127.0.0.1:${port}`),
    );
    const connected = await new Promise<boolean>((resolve) => {
      // kafkajs passes `ssl: undefined` when TLS is off (its type says it is always there).
      const args = {
        host: "kafka-0.nowhere.invalid",
        port: 9092,
        onConnect: () => resolve(true),
      } as Parameters<typeof factory>[0];
      const socket = factory(args);
      socket.on("error", () => resolve(false));
    });
    server.close();
    expect(connected).toBe(true);
  });
});
