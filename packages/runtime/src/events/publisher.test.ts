import { createEvent, events, HttpPublisher } from "@maas/events";
import { describe, expect, it } from "vitest";
import { defaultPublisher, unconfiguredPublisher } from "./publisher.js";

const event = () =>
  createEvent(events.deploymentDeleted, {
    source: "/functions/control",
    data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
  });

describe("defaultPublisher", () => {
  it("publishes to K_SINK over HTTP when set (SinkBinding semantics)", () => {
    const publisher = defaultPublisher({ functionName: "pipeline", sink: "http://127.0.0.1:9/sink" });
    expect(publisher).toBeInstanceOf(HttpPublisher);
    expect((publisher as HttpPublisher).url).toBe("http://127.0.0.1:9/sink");
  });

  it("without a sink, refuses to publish with an error that names the fix", async () => {
    const publisher = defaultPublisher({ functionName: "pipeline", sink: undefined });
    await expect(publisher.publish([event()])).rejects.toThrow(/pipeline has no event sink: set K_SINK/);
    await expect(unconfiguredPublisher("x").publish([])).rejects.toThrow(/K_SINK/);
  });
});
