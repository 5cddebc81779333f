import { describe, expect, it } from "vitest";
import { objectKeys } from "./object-keys.js";

const ids = { tenantId: "tnt_01HZX", modelId: "mdl_01HZY", versionId: "mver_01HZZ" };

describe("objectKeys", () => {
  it("spells model keys as tenants/<tenant>/models/<model>/<version>/<variant>.onnx", () => {
    expect(objectKeys.modelVariant({ ...ids, variant: "int8" })).toBe(
      "tenants/tnt_01HZX/models/mdl_01HZY/mver_01HZZ/int8.onnx",
    );
    expect(objectKeys.upload(ids)).toBe("tenants/tnt_01HZX/models/mdl_01HZY/mver_01HZZ/original.onnx");
  });

  it("nests every key of a tenant under its prefix", () => {
    const prefix = objectKeys.tenantPrefix(ids.tenantId);
    expect(prefix).toBe("tenants/tnt_01HZX/");
    expect(objectKeys.upload(ids).startsWith(objectKeys.uploadsPrefix(ids.tenantId))).toBe(true);
    expect(objectKeys.versionPrefix(ids)).toBe("tenants/tnt_01HZX/models/mdl_01HZY/mver_01HZZ/");
    expect(objectKeys.modelPrefix(ids).startsWith(prefix)).toBe(true);
  });

  it("refuses ids that could escape their folder", () => {
    for (const bad of ["", "..", "a/b", ".hidden", "a\\b", "x".repeat(200)]) {
      expect(() => objectKeys.tenantPrefix(bad)).toThrow(
        expect.objectContaining({ code: "VALIDATION_FAILED" }),
      );
      expect(() => objectKeys.modelVariant({ ...ids, variant: bad })).toThrow(
        expect.objectContaining({ code: "VALIDATION_FAILED" }),
      );
    }
  });
});
