import type { AppEnv } from "@maas/runtime";
import type { Hono } from "hono";

/** Protocol extensions this server implements (v2 "Server Metadata Response JSON Object"). */
export const V2_EXTENSIONS = ["binary_tensor_data"] as const;

/**
 * `GET /v2`: server metadata `{ name, version, extensions }`.
 *
 * @example
 * registerV2ServerMetadata(app, { name: "maas-inference", version: "0.1.0" });
 */
export function registerV2ServerMetadata(app: Hono<AppEnv>, server: { name: string; version: string }): void {
  app.get("/v2", (c) =>
    c.json({ name: server.name, version: server.version, extensions: [...V2_EXTENSIONS] }),
  );
}
