/** One request admitted by the in-process limits while Redis was not answering. */
export interface LocalAdmission {
  tenantId: string;
  leaseId: string;
  /** Epoch ms of the decision (its rate window) and of the lease's expiry. */
  at: number;
  expiresAt: number;
  released: boolean;
}

export interface BacklogTenantSync {
  tenantId: string;
  /** Rate windows (index → admissions) still inside the sliding window's reach. */
  windows: Map<number, number>;
  /** Leases still held (id → expiry), to add to the tenant's lease ZSET. */
  leases: Map<string, number>;
}

/**
 * What the instance admitted on its own while degraded, kept until Redis answers again so the
 * shared counters can be told: the rate windows get the admissions added (INCRBY) and the leases
 * still held are added to the lease ZSET. Without this, Redis would believe the tenant idle right
 * after recovery and admit a full window (and a full set of slots) on top of what ran locally:
 * that is how a flapping Redis timeout under load over-admitted (+19.5 % in the first bench run).
 * Bounded: past `max` entries the oldest go (their windows are long gone by then).
 *
 * @example
 * backlog.add({ tenantId, leaseId, at: now, expiresAt: now + leaseMs, released: false });
 * for (const t of backlog.drain(Date.now(), 1000)) await syncToRedis(t);
 */
export class LocalBacklog {
  private entries = new Map<string, LocalAdmission>();

  constructor(private readonly max = 50_000) {}

  get size(): number {
    return this.entries.size;
  }

  add(entry: LocalAdmission): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(entry.leaseId, entry);
  }

  /** The lease ended before Redis came back: only its rate token still needs telling. */
  released(leaseId: string): void {
    const entry = this.entries.get(leaseId);
    if (entry) entry.released = true;
  }

  /**
   * Empties the backlog into one sync per tenant: windows newer than `now - 2 windows` (older ones
   * no longer weigh in a sliding window) and leases neither released nor expired.
   */
  drain(now: number, windowMs: number): BacklogTenantSync[] {
    const current = Math.floor(now / windowMs);
    const byTenant = new Map<string, BacklogTenantSync>();
    for (const e of this.entries.values()) {
      const window = Math.floor(e.at / windowMs);
      const keepWindow = window >= current - 1;
      const keepLease = !e.released && e.expiresAt > now;
      if (!keepWindow && !keepLease) continue;
      let sync = byTenant.get(e.tenantId);
      if (sync === undefined) {
        sync = { tenantId: e.tenantId, windows: new Map(), leases: new Map() };
        byTenant.set(e.tenantId, sync);
      }
      if (keepWindow) sync.windows.set(window, (sync.windows.get(window) ?? 0) + 1);
      if (keepLease) sync.leases.set(e.leaseId, e.expiresAt);
    }
    this.entries = new Map();
    return [...byTenant.values()];
  }
}
