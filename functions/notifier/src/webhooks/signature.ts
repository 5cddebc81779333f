import { createHmac, randomBytes } from "node:crypto";

/** A new Standard Webhooks secret: `whsec_` + base64 of 24 random bytes (192 bits). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

/**
 * The Standard Webhooks signature (standardwebhooks.com, "Signature scheme"): HMAC-SHA256 keyed
 * with the base64-decoded secret after `whsec_`, over `${id}.${timestamp}.${body}`, sent as
 * `v1,<base64>` in `webhook-signature`, with `webhook-id` and `webhook-timestamp` (Unix seconds).
 *
 * @example
 * const headers = signWebhook(secret, "evt_1", 1767225600, body);
 * // { "webhook-id": "evt_1", "webhook-timestamp": "1767225600", "webhook-signature": "v1,…" }
 */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${signature}`,
  };
}
