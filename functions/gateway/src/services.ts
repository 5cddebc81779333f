import type { AuthEnv, Verifier } from "@maas/auth";
import type { DecideInput, Decision, Lease } from "@maas/quota";
import type { AppEnv } from "@maas/runtime";
import type { Upstreams } from "./proxy/upstreams.js";
import type { RouteResolver } from "./routing/route-resolver.js";
import type { UsageRecord } from "./usage/usage-record.js";

/** The decision module's surface the gateway uses (QuotaDecider in production). */
export interface QuotaPort {
  decide(input: DecideInput): Promise<Decision>;
  release(lease: Lease): Promise<void>;
}

/**
 * Where usage goes (the usage worker, or a UsageEmitter in this thread): synchronous, never throws;
 * a record that cannot be built into its event is logged and counted, never thrown at the client.
 */
export interface UsageSink {
  record(usage: UsageRecord): void;
}

/** Everything the gateway's routes need, built once at start (main.ts, tests, the bench). */
export interface GatewayServices {
  verifier: Verifier;
  routes: RouteResolver;
  quota: QuotaPort;
  upstreams: Upstreams;
  usage: UsageSink;
  /**
   * Bodies of known length up to this many bytes are read whole and written in one piece each way
   * (no web stream per request); larger or unknown-length ones stream (env PROXY_BUFFER_BYTES).
   */
  bufferBytes: number;
  /** Estimated price of one request of this tenant (micro-units); metering owns the real price. */
  estimateCostMicros(tenantId: string): number;
}

export type GatewayEnv = AppEnv & AuthEnv;
