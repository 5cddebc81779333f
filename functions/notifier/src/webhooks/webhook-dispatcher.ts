import { type Database, SecretSealer, withSystem } from "@maas/db";
import type { MaasEvent } from "@maas/events";
import { type Kysely, sql } from "kysely";
import { signWebhook } from "./signature.js";
import type { WebhookMetrics } from "./webhook-metrics.js";

export interface DispatcherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface WebhookDispatcherOptions {
  db: Kysely<Database>;
  /** Attempts before a delivery is dead-lettered (default 8). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt (default 30 s → ~1 h at attempt 8), capped by maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  clock?: () => Date;
  logger?: DispatcherLogger;
  /** Attempts by outcome; none when omitted (tests). */
  metrics?: WebhookMetrics;
  /** Opens sealed signing secrets (SECRETS_KEY); default: none (plain secrets only). */
  secrets?: SecretSealer;
}

export interface DispatchResult {
  attempted: number;
  delivered: number;
  retrying: number;
  dead: number;
}

const quiet: DispatcherLogger = { info: () => {}, warn: () => {} };

/**
 * Tenant webhooks with a persisted retry schedule. `enqueue` writes one delivery row per matching
 * active webhook (unique per webhook and event id, so a redelivered event enqueues nothing); `runDue`
 * claims due rows (FOR UPDATE SKIP LOCKED, pushing their next_attempt_at out as a lease so two
 * notifiers never send the same attempt), POSTs them signed per Standard Webhooks, and records the
 * outcome: delivered on 2xx, else retried with exponential backoff, dead-lettered after maxAttempts.
 * The rows are the tenant's delivery log (GET /v1/webhooks/{id}/deliveries).
 *
 * @example
 * const dispatcher = new WebhookDispatcher({ db });
 * await dispatcher.enqueue(event);
 * await dispatcher.runDue(); // also on a timer in main.ts
 */
export class WebhookDispatcher {
  readonly #o: Required<Omit<WebhookDispatcherOptions, "db" | "metrics">> & { db: Kysely<Database> };
  readonly #metrics: WebhookMetrics | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = {
      db: options.db,
      maxAttempts: options.maxAttempts ?? 8,
      baseDelayMs: options.baseDelayMs ?? 30_000,
      maxDelayMs: options.maxDelayMs ?? 3_600_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      fetch: options.fetch ?? fetch,
      clock: options.clock ?? (() => new Date()),
      logger: options.logger ?? quiet,
      secrets: options.secrets ?? SecretSealer.fromKey(undefined),
    };
    this.#metrics = options.metrics;
  }

  /** Enqueues the event for every active webhook of its tenant that wants its type; returns how many. */
  async enqueue(event: MaasEvent): Promise<number> {
    const tenantId = typeof event.tenantid === "string" ? event.tenantid : undefined;
    if (!tenantId) return 0;
    // Standard Webhooks payload: type, timestamp, data.
    const payload = {
      type: event.type,
      timestamp: event.time ?? this.#o.clock().toISOString(),
      data: event.data,
    };
    return withSystem(this.#o.db, async (trx) => {
      const hooks = await trx
        .selectFrom("webhooks")
        .select(["id", "event_types"])
        .where("tenant_id", "=", tenantId)
        .where("active", "=", true)
        .execute();
      const wanted = hooks.filter((h) => h.event_types.length === 0 || h.event_types.includes(event.type));
      if (wanted.length === 0) return 0;
      const res = await trx
        .insertInto("webhook_deliveries")
        .values(
          wanted.map((h) => ({
            tenant_id: tenantId,
            webhook_id: h.id,
            event_id: event.id,
            event_type: event.type,
            payload: JSON.stringify(payload),
            next_attempt_at: this.#o.clock(),
          })),
        )
        .onConflict((oc) => oc.columns(["webhook_id", "event_id"]).doNothing())
        .returning("id")
        .execute();
      return res.length;
    });
  }

  /** Sends every due delivery once (up to `limit`). */
  async runDue(limit = 100): Promise<DispatchResult> {
    const now = this.#o.clock();
    const lease = new Date(now.getTime() + this.#o.timeoutMs * 2);
    const claimed = await withSystem(this.#o.db, async (trx) => {
      const { rows } = await sql<{
        id: bigint;
        event_id: string;
        payload: unknown;
        attempts: number;
        url: string;
        webhook_id: string;
        secret: string;
      }>`
        update webhook_deliveries d set next_attempt_at = ${lease}, updated_at = now()
        from webhooks w
        where w.id = d.webhook_id and d.id in (
          select id from webhook_deliveries
          where status in ('pending', 'retrying') and next_attempt_at <= ${now}
          order by next_attempt_at limit ${limit} for update skip locked)
        returning d.id, d.event_id, d.payload, d.attempts, w.url, w.id as webhook_id, w.secret`.execute(trx);
      return rows;
    });
    const result: DispatchResult = { attempted: 0, delivered: 0, retrying: 0, dead: 0 };
    for (const d of claimed) {
      result.attempted++;
      const outcome = await this.#send(d);
      const attempts = d.attempts + 1;
      const at = this.#o.clock();
      if (outcome.ok) {
        result.delivered++;
        await this.#update(d.id, {
          status: "delivered",
          attempts,
          last_status_code: outcome.status,
          last_error: null,
          next_attempt_at: null,
          delivered_at: at,
        });
        this.#metrics?.deliveries.inc({ outcome: "delivered" });
      } else if (attempts >= this.#o.maxAttempts) {
        result.dead++;
        this.#o.logger.warn({ deliveryId: d.id.toString(), attempts }, "webhook delivery dead-lettered");
        await this.#update(d.id, {
          status: "dead",
          attempts,
          last_status_code: outcome.status,
          last_error: outcome.error,
          next_attempt_at: null,
          dead_lettered_at: at,
        });
        this.#metrics?.deliveries.inc({ outcome: "dead" });
      } else {
        result.retrying++;
        const delay = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (attempts - 1));
        await this.#update(d.id, {
          status: "retrying",
          attempts,
          last_status_code: outcome.status,
          last_error: outcome.error,
          next_attempt_at: new Date(at.getTime() + delay),
        });
        this.#metrics?.deliveries.inc({ outcome: "retry" });
      }
    }
    return result;
  }

  async #send(d: { event_id: string; payload: unknown; url: string; webhook_id: string; secret: string }) {
    let secret: string;
    try {
      secret = this.#o.secrets.open(d.secret, d.webhook_id);
    } catch (err) {
      // A missing or rotated SECRETS_KEY: nothing can be signed; the attempt fails and retries.
      return { ok: false, status: null, error: `cannot open the webhook's signing secret: ${String(err)}` };
    }
    const body = JSON.stringify(d.payload);
    const timestamp = Math.floor(this.#o.clock().getTime() / 1000);
    try {
      const res = await this.#o.fetch(d.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signWebhook(secret, d.event_id, timestamp, body),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      await res.body?.cancel();
      return {
        ok: res.status >= 200 && res.status < 300,
        status: res.status,
        error: res.ok ? null : `HTTP ${res.status}`,
      };
    } catch (err) {
      return { ok: false, status: null, error: String(err).slice(0, 500) };
    }
  }

  async #update(
    id: bigint,
    set: {
      status: "delivered" | "retrying" | "dead";
      attempts: number;
      last_status_code: number | null;
      last_error: string | null;
      next_attempt_at: Date | null;
      delivered_at?: Date;
      dead_lettered_at?: Date;
    },
  ): Promise<void> {
    await withSystem(this.#o.db, (trx) =>
      trx
        .updateTable("webhook_deliveries")
        .set({ ...set, updated_at: this.#o.clock() })
        .where("id", "=", id as never)
        .execute(),
    );
  }
}
