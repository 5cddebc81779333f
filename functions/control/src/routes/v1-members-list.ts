import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { MemberSchema, memberView } from "../schemas/access.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/members",
  tags: ["access"],
  summary: "List the tenant's members and their roles",
  security: [{ bearer: [] }],
  middleware: [requirePermission("members:read")] as const,
  responses: {
    200: jsonResponse(z.object({ members: z.array(MemberSchema) }), "The members"),
    ...errorResponses(),
  },
});

export function registerV1MembersList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const members = await inTenant(services.db, c, (trx) =>
      trx.selectFrom("members").selectAll().orderBy("created_at").orderBy("id").execute(),
    );
    return c.json({ members: members.map(memberView) }, 200);
  });
}
