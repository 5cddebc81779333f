import { Counter, type Registry } from "prom-client";

/**
 * Webhook delivery metrics: `webhook_deliveries_total{outcome}`, one per attempt, `delivered` (2xx),
 * `retry` (failed, scheduled again) or `dead` (failed its last attempt: dead-lettered, the tenant
 * never gets it; the WebhookDeadLetters alert reads this).
 */
export interface WebhookMetrics {
  deliveries: Counter<"outcome">;
}

/**
 * Registers the webhook metrics on the function's registry (never prom-client's global one).
 *
 * @example
 * const registry = new Registry();
 * const dispatcher = new WebhookDispatcher({ db, metrics: createWebhookMetrics(registry) });
 * const fn = createNotifier({ dispatcher, registry });
 */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  return {
    deliveries: new Counter({
      name: "webhook_deliveries_total",
      help: "Webhook delivery attempts, by outcome (delivered, retry, dead)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
  };
}
