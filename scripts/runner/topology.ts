import {
  type DeliveryPolicy,
  type Destination,
  destinationSchema,
  parseDeliverySpec,
  parseTriggerFilter,
  type TriggerFilter,
} from "@maas/delivery";
import { z } from "zod";
import type { LoadedResource, Resource } from "./manifests.js";

const envVarSchema = z.looseObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.unknown().optional(),
});

const serviceSpecSchema = z.looseObject({
  template: z.looseObject({
    metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
    spec: z.looseObject({
      containers: z
        .array(
          z.looseObject({
            image: z.string(),
            env: z.array(envVarSchema).optional(),
            readinessProbe: z
              .looseObject({ httpGet: z.looseObject({ path: z.string().optional() }).optional() })
              .optional(),
          }),
        )
        .min(1),
    }),
  }),
});

/** A Knative Service as the runner starts it. */
export interface ServiceDef {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Plain `value` env entries; valueFrom (secrets, config maps) are cluster-only and skipped. */
  env: Record<string, string>;
  readinessPath: string;
  minScale: number;
  /** `local.maas.dev/entry` annotation: the script to run instead of functions/<name>/src/main.ts. */
  entry: string | undefined;
}

export interface BrokerDef {
  name: string;
  namespace: string;
  /** `kafka.eventing.knative.dev/external.topic`, else Knative's default `knative-broker-<ns>-<name>`. */
  topic: string;
  delivery: DeliveryPolicy;
}

export interface TriggerDef {
  name: string;
  namespace: string;
  broker: string;
  filter: TriggerFilter;
  subscriber: Destination;
  delivery: DeliveryPolicy;
}

export interface KafkaSourceDef {
  name: string;
  namespace: string;
  topics: string[];
  consumerGroup: string;
  initialOffset: "earliest" | "latest";
  sink: Destination;
  delivery: DeliveryPolicy;
}

export interface PingSourceDef {
  name: string;
  namespace: string;
  schedule: string;
  timezone: string | undefined;
  contentType: string | undefined;
  data: string | undefined;
  sink: Destination;
}

export interface SinkBindingDef {
  name: string;
  namespace: string;
  /** Names of the Services bound (resolved from subject name or selector). */
  services: string[];
  sink: Destination;
}

export interface KafkaSinkDef {
  name: string;
  namespace: string;
  topic: string;
}

export interface Topology {
  services: ServiceDef[];
  brokers: BrokerDef[];
  triggers: TriggerDef[];
  kafkaSources: KafkaSourceDef[];
  pingSources: PingSourceDef[];
  sinkBindings: SinkBindingDef[];
  kafkaSinks: KafkaSinkDef[];
}

const triggerSpecSchema = z.looseObject({
  broker: z.string(),
  subscriber: destinationSchema,
  delivery: z.unknown().optional(),
});
const kafkaSourceSpecSchema = z.looseObject({
  topics: z.array(z.string()).min(1),
  consumerGroup: z.string().optional(),
  initialOffset: z.enum(["earliest", "latest"]).optional(),
  sink: destinationSchema,
  delivery: z.unknown().optional(),
});
const pingSourceSpecSchema = z.looseObject({
  schedule: z.string(),
  timezone: z.string().optional(),
  contentType: z.string().optional(),
  data: z.string().optional(),
  sink: destinationSchema,
});
const sinkBindingSpecSchema = z.looseObject({
  subject: z.looseObject({
    kind: z.string(),
    name: z.string().optional(),
    selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
  }),
  sink: destinationSchema,
});
const kafkaSinkSpecSchema = z.looseObject({ topic: z.string() });

function where(r: Resource): string {
  return `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
}

function parseOr<T>(schema: z.ZodType<T>, value: unknown, r: Resource): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${where(r)}: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Turns manifests into what the runner runs. Unknown kinds (Namespace, ConfigMap …) are ignored here;
 * a malformed spec of a kind it runs throws, naming the object.
 *
 * @example
 * const topology = buildTopology((await loadKustomization("knative/base")).resources);
 */
export function buildTopology(loaded: readonly LoadedResource[]): Topology {
  const t: Topology = {
    services: [],
    brokers: [],
    triggers: [],
    kafkaSources: [],
    pingSources: [],
    sinkBindings: [],
    kafkaSinks: [],
  };
  const brokerResources: Resource[] = [];
  const bindingResources: Resource[] = [];
  for (const { resource: r } of loaded) {
    const name = r.metadata.name;
    const namespace = r.metadata.namespace ?? "default";
    const group = r.apiVersion.split("/")[0];
    if (r.kind === "Service" && group === "serving.knative.dev") {
      const spec = parseOr(serviceSpecSchema, r.spec, r);
      const container = spec.template.spec.containers[0]!;
      const env: Record<string, string> = {};
      for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      const annotations = spec.template.metadata?.annotations ?? {};
      t.services.push({
        name,
        namespace,
        labels: r.metadata.labels ?? {},
        env,
        readinessPath: container.readinessProbe?.httpGet?.path ?? "/healthz",
        minScale: Number(annotations["autoscaling.knative.dev/min-scale"] ?? "0"),
        entry: r.metadata.annotations?.["local.maas.dev/entry"],
      });
    } else if (r.kind === "Broker") brokerResources.push(r);
    else if (r.kind === "SinkBinding") bindingResources.push(r);
    else if (r.kind === "KafkaSink") {
      t.kafkaSinks.push({ name, namespace, topic: parseOr(kafkaSinkSpecSchema, r.spec, r).topic });
    } else if (r.kind === "PingSource") {
      const s = parseOr(pingSourceSpecSchema, r.spec, r);
      t.pingSources.push({
        name,
        namespace,
        schedule: s.schedule,
        timezone: s.timezone,
        contentType: s.contentType,
        data: s.data,
        sink: s.sink,
      });
    }
  }
  for (const r of brokerResources) {
    const spec = z.looseObject({ delivery: z.unknown().optional() }).parse(r.spec ?? {});
    const ns = r.metadata.namespace ?? "default";
    t.brokers.push({
      name: r.metadata.name,
      namespace: ns,
      topic:
        r.metadata.annotations?.["kafka.eventing.knative.dev/external.topic"] ??
        `knative-broker-${ns}-${r.metadata.name}`,
      delivery: parseDeliverySpec(spec.delivery),
    });
  }
  for (const { resource: r } of loaded) {
    const namespace = r.metadata.namespace ?? "default";
    if (r.kind === "Trigger") {
      const s = parseOr(triggerSpecSchema, r.spec, r);
      const broker = t.brokers.find((b) => b.name === s.broker && b.namespace === namespace);
      if (!broker) throw new Error(`${where(r)}: broker ${s.broker} not found`);
      t.triggers.push({
        name: r.metadata.name,
        namespace,
        broker: s.broker,
        filter: parseTriggerFilter(r.spec),
        subscriber: s.subscriber,
        // A Trigger's delivery fills its gaps from the Broker's.
        delivery: parseDeliverySpec(s.delivery, broker.delivery),
      });
    } else if (r.kind === "KafkaSource") {
      const s = parseOr(kafkaSourceSpecSchema, r.spec, r);
      t.kafkaSources.push({
        name: r.metadata.name,
        namespace,
        topics: s.topics,
        consumerGroup: s.consumerGroup ?? `knative-kafka-source-${r.metadata.name}`,
        initialOffset: s.initialOffset ?? "latest",
        sink: s.sink,
        delivery: parseDeliverySpec(s.delivery),
      });
    }
  }
  for (const r of bindingResources) {
    const s = parseOr(sinkBindingSpecSchema, r.spec, r);
    const matchLabels = s.subject.selector?.matchLabels ?? {};
    const services = t.services
      .filter((svc) =>
        s.subject.name !== undefined
          ? svc.name === s.subject.name
          : Object.entries(matchLabels).every(([k, v]) => svc.labels[k] === v),
      )
      .map((svc) => svc.name);
    t.sinkBindings.push({
      name: r.metadata.name,
      namespace: r.metadata.namespace ?? "default",
      services,
      sink: s.sink,
    });
  }
  return t;
}
