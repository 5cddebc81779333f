import { stat } from "node:fs/promises";
import path from "node:path";
import { readYamlDocuments } from "@maas/k8s";
import { z } from "zod";

/** Any Kubernetes object as read from YAML; the topology narrows the kinds it runs. */
export const resourceSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});

// One reader for YAML manifests, shared with the validator in @maas/k8s.
export { readYamlDocuments };

export type Resource = z.infer<typeof resourceSchema> & { spec?: unknown };

export interface LoadedResource {
  resource: Resource;
  /** File it came from (for error messages). */
  file: string;
}

const kustomizationSchema = z.looseObject({
  namespace: z.string().optional(),
  resources: z.array(z.string()).default([]),
});

/**
 * Reads the resources a kustomization lists (files, or folders with their own kustomization.yaml),
 * without a kustomize binary: the local runner needs the base's objects, not overlays' patches.
 * The kustomization's `namespace` is applied to objects that have none.
 *
 * @example
 * const { resources, namespace } = await loadKustomization("knative/base");
 */
export async function loadKustomization(
  dir: string,
): Promise<{ namespace: string; resources: LoadedResource[] }> {
  const file = path.join(dir, "kustomization.yaml");
  const [doc] = await readYamlDocuments(file);
  const k = kustomizationSchema.parse(doc ?? {});
  const namespace = k.namespace ?? "default";
  const resources: LoadedResource[] = [];
  for (const entry of k.resources) {
    const target = path.resolve(dir, entry);
    if ((await stat(target)).isDirectory()) {
      const nested = await loadKustomization(target);
      resources.push(...nested.resources);
      continue;
    }
    for (const raw of await readYamlDocuments(target)) {
      const parsed = resourceSchema.safeParse(raw);
      if (!parsed.success) throw new Error(`${target}: not a Kubernetes object: ${parsed.error.message}`);
      const resource = parsed.data as Resource;
      resource.metadata.namespace ??= namespace;
      resources.push({ resource, file: target });
    }
  }
  return { namespace, resources };
}
