import { randomUUID } from "node:crypto";
import type { KubeObject, ObjectRef } from "../kube-applier.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  type: WatchEventType;
  object: KubeObject;
  resourceVersion: number;
}

type Listener = (event: StoredEvent) => void;

export function keyOf(ref: Pick<ObjectRef, "apiVersion" | "kind" | "name" | "namespace">): string {
  return `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ""}|${ref.name}`;
}

const clone = <T>(v: T): T => structuredClone(v);

/**
 * The API server's storage: objects by (apiVersion, kind, namespace, name), a global
 * resourceVersion, a bounded event history so a watch from an older resourceVersion misses nothing,
 * and listeners for live watches. Server-side apply with a single field manager reduces to "the
 * applied configuration replaces metadata labels/annotations and spec; status is the controller's".
 */
export class ObjectStore {
  readonly #objects = new Map<string, KubeObject>();
  readonly #history: StoredEvent[] = [];
  readonly #listeners = new Set<Listener>();
  #version = 1;

  get resourceVersion(): number {
    return this.#version;
  }

  get(ref: ObjectRef): KubeObject | undefined {
    const o = this.#objects.get(keyOf(ref));
    return o ? clone(o) : undefined;
  }

  list(filter: (o: KubeObject) => boolean = () => true): KubeObject[] {
    return [...this.#objects.values()].filter(filter).map(clone);
  }

  /** Applies a configuration; returns the stored object and whether its spec changed. */
  apply(ref: ObjectRef, applied: KubeObject): { object: KubeObject; created: boolean; specChanged: boolean } {
    const key = keyOf(ref);
    const existing = this.#objects.get(key);
    const version = ++this.#version;
    const { status: _ignored, ...config } = clone(applied);
    const specChanged = !existing || JSON.stringify(existing.spec) !== JSON.stringify(config.spec);
    const object: KubeObject = {
      ...config,
      metadata: {
        ...config.metadata,
        name: ref.name,
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
        uid: existing?.metadata?.uid ?? randomUUID(),
        resourceVersion: String(version),
        generation: (existing?.metadata?.generation ?? 0) + (specChanged ? 1 : 0),
        creationTimestamp:
          (existing?.metadata as { creationTimestamp?: string } | undefined)?.creationTimestamp ??
          new Date().toISOString(),
      } as KubeObject["metadata"],
      ...(existing?.status !== undefined ? { status: existing.status } : {}),
    };
    this.#objects.set(key, object);
    this.#emit({ type: existing ? "MODIFIED" : "ADDED", object: clone(object), resourceVersion: version });
    return { object: clone(object), created: !existing, specChanged };
  }

  /** Replaces the status (the controller's part); no-op when the object is gone. */
  setStatus(ref: ObjectRef, status: unknown): KubeObject | undefined {
    const key = keyOf(ref);
    const existing = this.#objects.get(key);
    if (!existing) return undefined;
    const version = ++this.#version;
    const object: KubeObject = {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(version) },
      status: clone(status),
    };
    this.#objects.set(key, object);
    this.#emit({ type: "MODIFIED", object: clone(object), resourceVersion: version });
    return clone(object);
  }

  delete(ref: ObjectRef): KubeObject | undefined {
    const key = keyOf(ref);
    const existing = this.#objects.get(key);
    if (!existing) return undefined;
    this.#objects.delete(key);
    const version = ++this.#version;
    const object = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(version) } };
    this.#emit({ type: "DELETED", object: clone(object), resourceVersion: version });
    return clone(object);
  }

  /** Events after `sinceVersion` still in the history, then live ones, until the returned stop(). */
  subscribe(sinceVersion: number | undefined, listener: Listener): () => void {
    if (sinceVersion !== undefined) {
      for (const e of this.#history) if (e.resourceVersion > sinceVersion) listener(e);
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: StoredEvent): void {
    this.#history.push(event);
    if (this.#history.length > 1000) this.#history.shift();
    for (const l of this.#listeners) l(event);
  }
}
