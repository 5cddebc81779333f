import { createEvent, knativePing, type MaasEvent } from "@maas/events";
import { Cron } from "croner";

export interface PingJob {
  name: string;
  namespace: string;
  schedule: string;
  timezone: string | undefined;
  data: string | undefined;
  contentType: string | undefined;
  /** Delivers the tick (the runner wires deliverWithRetry to the sink). */
  deliver: (event: MaasEvent) => Promise<void>;
}

/** The CloudEvent a PingSource emits: type dev.knative.sources.ping, source /apis/v1/namespaces/<ns>/pingsources/<name>. */
export function pingEvent(job: Pick<PingJob, "name" | "namespace" | "data" | "contentType">): MaasEvent {
  const json = job.contentType === undefined || /json/i.test(job.contentType);
  const data: unknown = job.data === undefined ? null : json ? JSON.parse(job.data) : job.data;
  return createEvent(knativePing, {
    source: `/apis/v1/namespaces/${job.namespace}/pingsources/${job.name}`,
    data: data as never,
  });
}

/**
 * Runs PingSource schedules with croner (5-field cron, the PingSource's timezone, UTC by default).
 *
 * @example
 * const pings = new PingScheduler();
 * pings.add({ name: "billing-daily", namespace: "maas", schedule: "0 1 * * *", ..., deliver });
 * await pings.fire("billing-daily"); // a tick now, for tests and manual runs
 */
export class PingScheduler {
  readonly #jobs = new Map<string, { job: PingJob; cron: Cron | undefined }>();

  add(job: PingJob, opts: { schedule: boolean } = { schedule: true }): void {
    const cron = opts.schedule
      ? new Cron(job.schedule, { timezone: job.timezone ?? "UTC", protect: true }, () => this.fire(job.name))
      : undefined;
    this.#jobs.set(job.name, { job, cron });
  }

  /** When each job runs next (for the runner's table). */
  nextRuns(): { name: string; next: Date | null }[] {
    return [...this.#jobs.values()].map(({ job, cron }) => ({
      name: job.name,
      next: cron?.nextRun() ?? null,
    }));
  }

  async fire(name: string): Promise<void> {
    const entry = this.#jobs.get(name);
    if (!entry) throw new Error(`no PingSource ${name}`);
    await entry.job.deliver(pingEvent(entry.job));
  }

  stop(): void {
    for (const { cron } of this.#jobs.values()) cron?.stop();
  }
}
