import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Principal, Verifier } from "@maas/auth";
import type { MaasEvent } from "@maas/events";
import type { Decision, Lease } from "@maas/quota";
import { Upstreams } from "../proxy/upstreams.js";
import type { Route, RouteResolver } from "../routing/route-resolver.js";
import type { GatewayServices, QuotaPort, UsageSink } from "../services.js";
import { type UsageRecord, usageEvent } from "../usage/usage-record.js";

/** A verifier that knows a fixed set of tokens. */
export function fakeVerifier(tokens: Record<string, Principal>): Verifier {
  return {
    async verify(credential) {
      const principal = tokens[credential];
      return principal
        ? { ok: true, principal }
        : { ok: false, code: "UNAUTHENTICATED", reason: "unknown_key", message: "invalid credentials" };
    },
  };
}

export function keyPrincipal(tenantId: string, keyId = "key_1"): Principal {
  return { kind: "api_key", tenantId, role: "developer", keyId, subject: keyId, operator: false };
}

export function fakeRoutes(routes: Record<string, Route>): RouteResolver {
  return {
    async resolve(tenantId, name, version) {
      const route = routes[`${tenantId}/${name}`];
      if (!route || (version !== undefined && version !== route.version)) return null;
      return route;
    },
  };
}

/** Records decisions and releases; rejects when `reject` is set. */
export class FakeQuota implements QuotaPort {
  decided = 0;
  released: Lease[] = [];
  reject: Decision | undefined;

  async decide({ tenantId }: { tenantId: string }): Promise<Decision> {
    this.decided++;
    if (this.reject) return this.reject;
    return {
      allowed: true,
      lease: { tenantId, id: `l${this.decided}`, expiresAt: Date.now() + 30_000, source: "redis" },
      degraded: false,
      headers: { RateLimit: '"qps";r=9;t=1' },
    };
  }

  async release(lease: Lease): Promise<void> {
    this.released.push(lease);
  }
}

/** Keeps each record's event (built and validated as the usage pipeline does), or why it could not be built. */
export class MemoryUsage implements UsageSink {
  events: MaasEvent[] = [];
  errors: unknown[] = [];
  record(usage: UsageRecord): void {
    try {
      this.events.push(usageEvent(usage));
    } catch (err) {
      this.errors.push(err);
    }
  }
}

/** A local HTTP server standing in for an inference service. */
export async function upstreamServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function testUpstreams(): Upstreams {
  return new Upstreams({
    connections: 8,
    connectTimeoutMs: 500,
    headersTimeoutMs: 2_000,
    bodyTimeoutMs: 2_000,
    breakerThreshold: 3,
    breakerHalfOpenMs: 60_000,
    connectRetries: 2,
  });
}

export function fakeServices(
  parts: Partial<GatewayServices> & Pick<GatewayServices, "routes">,
): GatewayServices {
  return {
    verifier: fakeVerifier({}),
    quota: new FakeQuota(),
    upstreams: testUpstreams(),
    usage: new MemoryUsage(),
    bufferBytes: 1024 * 1024,
    estimateCostMicros: () => 100,
    ...parts,
  };
}
