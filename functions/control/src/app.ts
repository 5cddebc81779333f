import type { Verifier } from "@maas/auth";
import { type Database, SecretSealer } from "@maas/db";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import type { ObjectStore } from "@maas/storage";
import type { Kysely } from "kysely";
import { createControlApi } from "./openapi/control-api.js";
import type { ControlServices, UploadSettings } from "./services.js";

export const DEFAULT_UPLOAD_SETTINGS: Readonly<UploadSettings> = Object.freeze({
  ttlSeconds: 24 * 3600,
  presignSeconds: 3600,
  minPartSize: 8 * 1024 * 1024,
});

export interface ControlDeps extends FunctionDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  auth: { verifier: Verifier };
  /** UTC now (default `new Date()`). */
  clock?: () => Date;
  /** Absolute base URL clients reach this API at, e.g. `http://127.0.0.1:8081`. */
  publicUrl: string;
  uploads?: Partial<UploadSettings>;
  /** Seals webhook secrets at rest (default: none, stored as they are). */
  secrets?: SecretSealer;
  onShutdown?: () => Promise<void>;
}

/**
 * The control function (DESIGN §2): the control-plane API (tenants, API keys, members, models,
 * versions, resumable uploads, deployments, audit log) with its OpenAPI document and docs page.
 * Every dependency comes in explicitly; nothing is read from the environment here.
 *
 * @example
 * const fn = createControl({ db, store, auth: { verifier }, logger, registry, publicUrl: "http://127.0.0.1:8081" });
 * await fn.app.request("/v1/models", { headers: { authorization: `Bearer ${key}` } }); // 200
 */
export function createControl(deps: ControlDeps): MaasFunction {
  const { db, store, auth, clock, publicUrl, uploads, secrets, ...rest } = deps;
  const services: ControlServices = {
    db,
    store,
    clock: clock ?? (() => new Date()),
    publicUrl: publicUrl.replace(/\/+$/, ""),
    uploads: { ...DEFAULT_UPLOAD_SETTINGS, ...uploads },
    secrets: secrets ?? SecretSealer.fromKey(undefined),
  };
  return createFunction({
    name: "control",
    ...rest,
    routes: (app) => {
      app.route("/", createControlApi(services, auth));
    },
  });
}
