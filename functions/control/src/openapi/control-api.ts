import { OpenAPIHono } from "@hono/zod-openapi";
import { authenticate, type Verifier } from "@maas/auth";
import type { ControlEnv } from "../control-env.js";
import { registerDocs } from "../docs/docs-routes.js";
import { registerBillingRoutes } from "../routes/billing-routes.js";
import { registerV1AuditList } from "../routes/v1-audit-list.js";
import { registerV1DeploymentsCreate } from "../routes/v1-deployments-create.js";
import { registerV1DeploymentsDelete } from "../routes/v1-deployments-delete.js";
import { registerV1DeploymentsGet } from "../routes/v1-deployments-get.js";
import { registerV1DeploymentsList } from "../routes/v1-deployments-list.js";
import { registerV1KeysCreate } from "../routes/v1-keys-create.js";
import { registerV1KeysList } from "../routes/v1-keys-list.js";
import { registerV1KeysRevoke } from "../routes/v1-keys-revoke.js";
import { registerV1MembersCreate } from "../routes/v1-members-create.js";
import { registerV1MembersDelete } from "../routes/v1-members-delete.js";
import { registerV1MembersList } from "../routes/v1-members-list.js";
import { registerV1ModelsCreate } from "../routes/v1-models-create.js";
import { registerV1ModelsGet } from "../routes/v1-models-get.js";
import { registerV1ModelsList } from "../routes/v1-models-list.js";
import { registerV1TenantsCreate } from "../routes/v1-tenants-create.js";
import { registerV1TenantsGet } from "../routes/v1-tenants-get.js";
import { registerV1TenantsSuspend } from "../routes/v1-tenants-suspend.js";
import { registerV1UploadsAbort } from "../routes/v1-uploads-abort.js";
import { registerV1UploadsComplete } from "../routes/v1-uploads-complete.js";
import { registerV1UploadsCreate } from "../routes/v1-uploads-create.js";
import { registerV1UploadsGet } from "../routes/v1-uploads-get.js";
import { registerV1UploadsPartPut } from "../routes/v1-uploads-part-put.js";
import { registerV1UploadsParts } from "../routes/v1-uploads-parts.js";
import { registerV1VersionsGet } from "../routes/v1-versions-get.js";
import type { ControlServices } from "../services.js";
import { validationHook } from "./default-hook.js";

export const OPENAPI_PATH = "/openapi.json";

/**
 * The control API as one OpenAPIHono app: every `/v1` route authenticated, each route file
 * registered explicitly below, the OpenAPI 3.1 document at `/openapi.json` and Swagger UI at `/docs`.
 *
 * @example
 * const api = createControlApi(services, { verifier });
 * app.route("/", api);
 */
export function createControlApi(
  services: ControlServices,
  auth: { verifier: Verifier },
): OpenAPIHono<ControlEnv> {
  const api = new OpenAPIHono<ControlEnv>({ defaultHook: validationHook });
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key (`maas_<prefix>_<secret>`) or a JWT from the identity provider",
  });
  api.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    info: {
      title: "MaaS control API",
      version: "1.0.0",
      description:
        "Tenants, API keys, members, models, versions, resumable uploads, deployments and the audit log. " +
        "Errors: `{ error: { code, message, requestId, docs, details? } }`.",
    },
    servers: [{ url: services.publicUrl }],
  });
  registerDocs(api);

  api.use("/v1/*", authenticate({ verifier: auth.verifier }));
  // Operators
  registerV1TenantsCreate(api, services);
  registerV1TenantsGet(api, services);
  registerV1TenantsSuspend(api, services);
  // Access
  registerV1KeysCreate(api, services);
  registerV1KeysList(api, services);
  registerV1KeysRevoke(api, services);
  registerV1MembersCreate(api, services);
  registerV1MembersList(api, services);
  registerV1MembersDelete(api, services);
  // Registry
  registerV1ModelsCreate(api, services);
  registerV1ModelsList(api, services);
  registerV1ModelsGet(api, services);
  registerV1VersionsGet(api, services);
  registerV1UploadsCreate(api, services);
  registerV1UploadsGet(api, services);
  registerV1UploadsParts(api, services);
  registerV1UploadsPartPut(api, services);
  registerV1UploadsComplete(api, services);
  registerV1UploadsAbort(api, services);
  // Serving
  registerV1DeploymentsCreate(api, services);
  registerV1DeploymentsList(api, services);
  registerV1DeploymentsGet(api, services);
  registerV1DeploymentsDelete(api, services);
  // Audit
  registerV1AuditList(api, services);
  registerBillingRoutes(api, services);
  return api;
}
