import { describe, expect, it } from "vitest";
import { parseTopicSpecs, planTopics } from "./topic-spec.js";

describe("parseTopicSpecs", () => {
  it("reads name:partitions pairs", () => {
    expect(parseTopicSpecs(["maas.events:6", "maas.dlq:3"])).toEqual([
      { name: "maas.events", partitions: 6 },
      { name: "maas.dlq", partitions: 3 },
    ]);
  });

  it.each([[[]], [["maas.events"]], [["maas.events:0"]], [["bad name:3"]], [["a:b"]]])(
    "rejects %j",
    (args) => {
      expect(() => parseTopicSpecs(args)).toThrow();
    },
  );
});

describe("planTopics", () => {
  const wanted = [
    { name: "maas.events", partitions: 6 },
    { name: "maas.usage", partitions: 12 },
    { name: "maas.dlq", partitions: 3 },
  ];

  it("creates missing topics and grows short ones, leaving bigger ones alone", () => {
    const plan = planTopics(
      wanted,
      new Map([
        ["maas.usage", 4],
        ["maas.dlq", 8],
      ]),
    );
    expect(plan).toEqual({
      create: [{ name: "maas.events", partitions: 6 }],
      grow: [{ name: "maas.usage", partitions: 12 }],
    });
  });

  it("has nothing to do when every topic is there", () => {
    const existing = new Map(wanted.map((t) => [t.name, t.partitions]));
    expect(planTopics(wanted, existing)).toEqual({ create: [], grow: [] });
  });
});
