import { existsSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { readYamlDocuments } from "./yaml-documents.js";

/**
 * The CRD schemas shared by the team (`../shared/schemas/crds` beside the repository, kubeconform
 * layout). A deployed deployer bundles them and passes its own folder instead.
 */
export const defaultSchemaDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../../shared/schemas/crds",
);

/** One YAML document found under a manifest folder. */
export interface ManifestDocument {
  file: string;
  index: number;
  value: Record<string, unknown>;
}

/** Files that are YAML but not Kubernetes objects: compose files and kustomize's own config. */
export function isManifestFile(name: string): boolean {
  if (!/\.ya?ml$/.test(name)) return false;
  if (/^docker-compose.*\.ya?ml$/.test(name)) return false;
  return name !== "kustomization.yaml" && name !== "kustomization.yml";
}

/** Every manifest document under the folders (recursively), in a stable order. */
export async function collectManifests(roots: readonly string[]): Promise<ManifestDocument[]> {
  const out: ManifestDocument[] = [];
  for (const root of roots) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    const files = entries
      .filter((e) => e.isFile() && isManifestFile(e.name) && !e.parentPath.includes("node_modules"))
      .map((e) => path.join(e.parentPath, e.name))
      .sort();
    for (const file of files) {
      const docs = await readYamlDocuments(file);
      docs.forEach((value, index) => {
        out.push({ file, index, value: value as Record<string, unknown> });
      });
    }
  }
  return out;
}

/** Core API groups `kubernetes-models` ships classes for (apiVersion without a dot, or *.k8s.io). */
function isCoreGroup(group: string): boolean {
  return group === "" || !group.includes(".") || group.endsWith(".k8s.io");
}

type ModelCtor = new (data: unknown) => { validate(): void };

async function coreModel(apiVersion: string, kind: string): Promise<ModelCtor | undefined> {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const modulePath =
    group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
  try {
    const mod = (await import(modulePath)) as Record<string, unknown>;
    return (mod[kind] ?? mod.default) as ModelCtor | undefined;
  } catch {
    return undefined;
  }
}

/**
 * CRD patterns are Go (RE2) regular expressions: an inline `(?i)` (case-insensitive, e.g. in
 * PrometheusRule's `^(?i)(abort|warn)?$`) is a syntax error in JavaScript, so it is dropped and the
 * whole pattern gets the `i` flag (slightly looser than Go when `(?i)` is not at the start).
 */
export const goRegExp = Object.assign(
  (pattern: string, flags: string): RegExp =>
    pattern.includes("(?i)")
      ? new RegExp(pattern.replaceAll("(?i)", ""), `${flags}i`)
      : new RegExp(pattern, flags),
  { code: "goRegExp" },
);

/** Validates one Kubernetes object; resolves to one message per problem (empty = valid). */
export interface ManifestValidator {
  validate(doc: Record<string, unknown>): Promise<string[]>;
}

/**
 * Validates manifests offline: custom resources against `<schemaDir>/<group>/<kind>_<version>.json`
 * (the kubeconform layout; OpenAPI v3 flavoured JSON Schema, so `x-kubernetes-*` keywords and unknown
 * formats are tolerated), core kinds with `kubernetes-models`. Returns one message per problem.
 *
 * @example
 * const problems = await createManifestValidator(defaultSchemaDir).validate(doc);
 */
export function createManifestValidator(schemaDir: string = defaultSchemaDir): ManifestValidator {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { regExp: goRegExp } });
  addFormats.default(ajv);
  const compiled = new Map<string, ValidateFunction>();

  return {
    async validate(doc: Record<string, unknown>): Promise<string[]> {
      const apiVersion = doc.apiVersion;
      const kind = doc.kind;
      if (typeof apiVersion !== "string" || typeof kind !== "string") return ["no apiVersion/kind"];
      const [group, version] = apiVersion.includes("/")
        ? (apiVersion.split("/") as [string, string])
        : ["", apiVersion];
      if (isCoreGroup(group)) {
        const Model = await coreModel(apiVersion, kind);
        if (!Model) return [`unknown core kind ${apiVersion} ${kind}`];
        try {
          new Model(doc).validate();
          return [];
        } catch (err) {
          return [`${kind}: ${err instanceof Error ? err.message : String(err)}`];
        }
      }
      const file = path.join(schemaDir, group, `${kind.toLowerCase()}_${version}.json`);
      if (!existsSync(file)) return [`no schema for ${apiVersion} ${kind} (looked for ${file})`];
      let validate = compiled.get(file);
      if (!validate) {
        validate = ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object);
        compiled.set(file, validate);
      }
      if (validate(doc)) return [];
      return (validate.errors ?? []).map(
        (e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
      );
    },
  };
}

let shared: ManifestValidator | undefined;

/**
 * Validates against the default schema folder with one lazily built validator (compiled schemas are
 * cached); pass your own from {@link createManifestValidator} for another folder.
 *
 * @example
 * expect(await validateManifest(renderInferenceService(dep, opts))).toEqual([]);
 */
export function validateManifest(doc: object, validator?: ManifestValidator): Promise<string[]> {
  shared ??= createManifestValidator();
  return (validator ?? shared).validate(doc as Record<string, unknown>);
}
