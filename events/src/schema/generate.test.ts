import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { catalog } from "../catalog/catalog.js";
import { renderAsyncApi } from "./asyncapi.js";
import { renderGenerated } from "./generate.js";

const generatedDir = fileURLToPath(new URL("../../generated/", import.meta.url));

describe("generated JSON Schema and AsyncAPI", () => {
  it("match the checked-in copies (run `pnpm --filter @maas/events generate` after changing the catalog)", async () => {
    const expected = renderGenerated();
    const onDisk = new Map<string, string>();
    onDisk.set("asyncapi.yaml", await readFile(`${generatedDir}asyncapi.yaml`, "utf8"));
    for (const name of await readdir(`${generatedDir}json-schema`)) {
      onDisk.set(`json-schema/${name}`, await readFile(`${generatedDir}json-schema/${name}`, "utf8"));
    }
    expect([...onDisk.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, content] of expected) expect(onDisk.get(path), path).toBe(content);
  });

  it("has one JSON Schema per catalog type, with its fields", () => {
    const files = renderGenerated();
    for (const type of catalog.keys()) expect(files.has(`json-schema/${type}.json`), type).toBe(true);
    const tenant = JSON.parse(files.get("json-schema/io.maas.tenant.created.v1.json") as string);
    expect(tenant).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: expect.arrayContaining(["tenantId", "slug", "name", "plan"]),
      properties: { tenantId: { type: "string", pattern: "^tnt_[0-9a-z]{1,64}$" } },
    });
  });

  it("is a valid AsyncAPI 3.0 document (@asyncapi/parser) with a message per type on its topic", async () => {
    const text = renderAsyncApi();
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join(".")}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe("3.0.0");

    const doc = parse(text) as {
      channels: Record<string, { address: string; messages: Record<string, unknown> }>;
      components: { messages: Record<string, { headers: { properties: { ce_type: { const: string } } } }> };
    };
    expect(Object.values(doc.channels).map((c) => c.address)).toEqual([
      "maas.events",
      "maas.usage",
      "maas.dlq",
    ]);
    for (const def of catalog.values()) {
      const channel = Object.values(doc.channels).find((c) => c.address === def.topic);
      expect(channel?.messages[def.type], def.type).toBeDefined();
      expect(doc.components.messages[def.type]?.headers.properties.ce_type.const).toBe(def.type);
    }
  });
});
