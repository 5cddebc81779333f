import { AppError, validationError } from "@maas/errors";
import { type Lease, toAppError } from "@maas/quota";
import type { Hono } from "hono";
import { z } from "zod";
import type { QuotaEnv, QuotaServices } from "../services.js";
import { authorizeTenant } from "./access.js";

const decideBody = z.object({
  /** Defaults to the caller's tenant; only operators name another. */
  tenantId: z
    .string()
    .regex(/^tnt_[0-9a-z]+$/)
    .optional(),
  estimatedCostMicros: z.int().min(0),
});

const leaseSchema = z.object({
  tenantId: z.string(),
  id: z.string(),
  expiresAt: z.number(),
  source: z.enum(["redis", "local", "none"]),
});

/** A lease travels as an opaque token: base64url JSON (it names its tenant, checked on release). */
export function encodeLease(lease: Lease): string {
  return Buffer.from(JSON.stringify(lease)).toString("base64url");
}

function decodeLease(token: string): Lease {
  try {
    return leaseSchema.parse(JSON.parse(Buffer.from(token, "base64url").toString("utf8")));
  } catch {
    throw new AppError("NOT_FOUND", "lease not found");
  }
}

/**
 * `POST /v1/decisions` (one decision: 200 with a lease token, or the quota module's 429/402/503)
 * and `DELETE /v1/decisions/{lease}` (release; idempotent) for callers other than the gateway.
 *
 * @example
 * registerV1Decisions(app, services);
 */
export function registerV1Decisions(app: Hono<QuotaEnv>, services: QuotaServices): void {
  app.post("/v1/decisions", async (c) => {
    const parsed = decideBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw validationError(parsed.error);
    const tenantId = parsed.data.tenantId ?? c.get("principal").tenantId;
    if (tenantId === null) throw new AppError("VALIDATION_FAILED", "tenantId is required for operators");
    authorizeTenant(c, tenantId, "usage:read");
    const decision = await services.decider.decide({
      tenantId,
      estimatedCostMicros: parsed.data.estimatedCostMicros,
    });
    if (!decision.allowed) throw toAppError(decision);
    for (const [name, value] of Object.entries(decision.headers)) c.header(name, value);
    return c.json({
      decision: {
        allowed: true,
        lease: encodeLease(decision.lease),
        expiresAt: new Date(decision.lease.expiresAt).toISOString(),
        degraded: decision.degraded,
      },
    });
  });

  app.delete("/v1/decisions/:lease", async (c) => {
    const lease = decodeLease(c.req.param("lease"));
    authorizeTenant(c, lease.tenantId, "usage:read");
    await services.decider.release(lease);
    return c.json({ released: true });
  });
}
