import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { assertCanGrant } from "../lib/grant.js";
import { inTenant } from "../lib/request-scope.js";
import { MemberIdParams, MemberSchema, memberView } from "../schemas/access.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "delete",
  path: "/v1/members/{memberId}",
  tags: ["access"],
  summary: "Remove a member",
  security: [{ bearer: [] }],
  middleware: [requirePermission("members:write")] as const,
  request: { params: MemberIdParams },
  responses: {
    200: jsonResponse(z.object({ member: MemberSchema }), "The removed member"),
    ...errorResponses(404, 409),
  },
});

export function registerV1MembersDelete(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { memberId } = c.req.valid("param");
    const member = await inTenant(services.db, c, async (trx, scope) => {
      const existing = await trx
        .selectFrom("members")
        .selectAll()
        .where("id", "=", memberId)
        .forUpdate()
        .executeTakeFirst();
      if (existing === undefined) throw new AppError("NOT_FOUND", `member ${memberId} not found`);
      assertCanGrant(scope.principal, existing.role);
      if (existing.role === "owner") {
        const owners = await trx
          .selectFrom("members")
          .select((eb) => eb.fn.countAll<string | number | bigint>().as("n"))
          .where("role", "=", "owner")
          .executeTakeFirstOrThrow();
        // A tenant without an owner could never again change its members.
        if (Number(owners.n) <= 1) throw new AppError("CONFLICT", "cannot remove the last owner");
      }
      await trx.deleteFrom("members").where("id", "=", memberId).execute();
      await appendAudit(trx, {
        ...scope,
        action: "member.delete",
        target: memberId,
        details: { subject: existing.subject, role: existing.role },
      });
      return existing;
    });
    return c.json({ member: memberView(member) }, 200);
  });
}
