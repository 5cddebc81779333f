import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { newId } from "@maas/db";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { isUniqueViolation } from "../lib/db-errors.js";
import { assertCanGrant } from "../lib/grant.js";
import { inTenant, requestScope } from "../lib/request-scope.js";
import { CreateMemberSchema, MemberSchema, memberView } from "../schemas/access.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/members",
  tags: ["access"],
  summary: "Add a person (an identity provider subject) to the tenant with a role",
  security: [{ bearer: [] }],
  middleware: [requirePermission("members:write")] as const,
  request: { body: jsonBody(CreateMemberSchema) },
  responses: { 201: jsonResponse(z.object({ member: MemberSchema }), "The member"), ...errorResponses(409) },
});

export function registerV1MembersCreate(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    assertCanGrant(requestScope(c).principal, body.role);
    const member = await inTenant(services.db, c, async (trx, scope) => {
      const taken = await trx
        .selectFrom("members")
        .select("id")
        .where("subject", "=", body.subject)
        .executeTakeFirst();
      if (taken !== undefined) throw alreadyMember(body.subject);
      const row = await trx
        .insertInto("members")
        .values({ id: newId("mem"), tenant_id: scope.tenantId, subject: body.subject, role: body.role })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err: unknown) => {
          throw isUniqueViolation(err) ? alreadyMember(body.subject) : err;
        });
      await appendAudit(trx, {
        ...scope,
        action: "member.create",
        target: row.id,
        details: { subject: row.subject, role: row.role },
      });
      return row;
    });
    return c.json({ member: memberView(member) }, 201);
  });
}

function alreadyMember(subject: string): AppError {
  return new AppError("CONFLICT", `${subject} is already a member`, { details: { subject } });
}
