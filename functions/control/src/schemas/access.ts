import { z } from "@hono/zod-openapi";
import type { ApiKey, Member } from "@maas/db";
import { idParam, iso, isoTime, RoleSchema } from "./common.js";

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    name: z.string(),
    role: RoleSchema,
    /** The public lookup handle: `maas_<prefix>_…` identifies the key in listings and logs. */
    prefix: z.string(),
    createdAt: isoTime(),
    lastUsedAt: isoTime().nullable(),
    revokedAt: isoTime().nullable(),
  })
  .openapi("ApiKey");

export const CreateApiKeySchema = z
  .object({ name: z.string().min(1).max(100), role: RoleSchema })
  .strict()
  .openapi("CreateApiKey");

export const KeyIdParams = z.object({
  keyId: idParam("key", "key_01jd8x3k5q0v8m2c7r9s4t6w1y").openapi({ param: { name: "keyId", in: "path" } }),
});

export const MemberSchema = z
  .object({
    id: z.string().openapi({ example: "mem_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    subject: z.string().openapi({ description: "The identity provider's subject (JWT `sub`)" }),
    role: RoleSchema,
    createdAt: isoTime(),
  })
  .openapi("Member");

export const CreateMemberSchema = z
  .object({ subject: z.string().min(1).max(256), role: RoleSchema })
  .strict()
  .openapi("CreateMember");

export const MemberIdParams = z.object({
  memberId: idParam("mem", "mem_01jd8x3k5q0v8m2c7r9s4t6w1y").openapi({
    param: { name: "memberId", in: "path" },
  }),
});

export function apiKeyView(k: ApiKey): z.infer<typeof ApiKeySchema> {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    prefix: k.prefix,
    createdAt: iso(k.created_at),
    lastUsedAt: iso(k.last_used_at),
    revokedAt: iso(k.revoked_at),
  };
}

export function memberView(m: Member): z.infer<typeof MemberSchema> {
  return { id: m.id, subject: m.subject, role: m.role, createdAt: iso(m.created_at) };
}
