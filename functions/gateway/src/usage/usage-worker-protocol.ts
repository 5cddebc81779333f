import type { BaseEnv } from "@maas/runtime";
import type { UsageEnv } from "./usage-pipeline.js";
import type { UsageRecord } from "./usage-record.js";

/** What the gateway hands the usage worker at start. */
export interface UsageWorkerData {
  maasUsageWorker: {
    env: UsageEnv;
    logLevel: BaseEnv["LOG_LEVEL"];
    loggerBase: Record<string, string | undefined>;
  };
}

export type ToUsageWorker =
  | { kind: "records"; records: UsageRecord[] }
  | { kind: "metrics"; id: number }
  | { kind: "close" };

export type FromUsageWorker =
  | { kind: "ready" }
  | { kind: "metrics"; id: number; outcomes: Record<string, number>; spoolBytes: number }
  | { kind: "closed" };
