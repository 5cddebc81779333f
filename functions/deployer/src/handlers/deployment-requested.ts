import { events } from "@maas/events";
import {
  KubeApiError,
  type ReadyResult,
  refOf,
  renderInferenceService,
  renderTenantNamespace,
} from "@maas/k8s";
import { type EventHandler, NonRetriableError } from "@maas/runtime";
import {
  loadDeploymentTarget,
  type Outcome,
  reasonCode,
  recordOutcome,
  variantObjectKey,
} from "../deployment-store.js";
import type { DeployerServices } from "../services.js";

const SOURCE = "/functions/deployer";

/**
 * `io.maas.deployment.requested.v1`: render the deployment's Knative Service, validate it, apply it
 * (server-side apply: a redelivered event re-applies the same object, harmlessly), watch it Ready,
 * and record `ready` + deployment.ready or `failed` + deployment.failed in one transaction (outbox).
 * Idempotent on state: only a pending deployment is moved on, so a redelivery emits nothing twice.
 * Bad input (nothing to deploy) is a NonRetriableError; an unreachable API server is retried.
 */
export function deploymentRequested(services: DeployerServices): EventHandler {
  const source = services.source ?? SOURCE;
  return async (event, { logger }) => {
    const data = events.deploymentRequested.data.parse(event.data);
    const ids = { tenantId: data.tenantId, deploymentId: data.deploymentId };
    const target = await loadDeploymentTarget(services.db, data.deploymentId);
    if (!target || target.deployment.tenantId !== data.tenantId) {
      throw new NonRetriableError(`deployment ${data.deploymentId} of ${data.tenantId} does not exist`);
    }
    if (target.status === "deleting" || target.status === "deleted") {
      logger.info({ status: target.status }, "deployment.requested for a deployment being deleted: ignored");
      return;
    }
    const fail = async (reason: string, message: string) => {
      const written = await recordOutcome(services.db, ids, { status: "failed", reason, message }, source);
      logger.warn({ reason, message, emitted: written?.id }, "deployment failed");
    };

    let service: ReturnType<typeof renderInferenceService>;
    try {
      const key = variantObjectKey(target, target.deployment.variant ?? "fp32");
      service = renderInferenceService(
        { ...target.deployment, modelUri: `${services.modelUriBase}${key}` },
        services.render,
      );
    } catch (err) {
      return fail("RENDER_FAILED", err instanceof Error ? err.message : String(err));
    }
    const problems = await services.validator.validate(
      JSON.parse(JSON.stringify(service)) as Record<string, unknown>,
    );
    if (problems.length > 0) return fail("INVALID_MANIFEST", problems.join("; ").slice(0, 1000));

    let result: ReadyResult;
    try {
      // The namespace first (idempotent): deployment.requested may overtake tenant.created.
      for (const object of renderTenantNamespace(
        { id: data.tenantId, slug: target.tenantSlug },
        services.namespace,
      )) {
        await services.applier.apply(object);
      }
      await services.applier.apply(service);
      logger.info(
        { namespace: service.metadata?.namespace, name: service.metadata?.name },
        "service applied",
      );
      result = await services.applier.watchReady(refOf(service), services.readyTimeoutMs);
    } catch (err) {
      if (err instanceof KubeApiError && !err.retriable) {
        return fail(`APPLY_${reasonCode(err.reason)}`, err.message.slice(0, 1000));
      }
      throw err; // unreachable or 5xx: the broker retries
    }

    let outcome: Outcome;
    if (result.status === "ready") {
      if (!result.url) return fail("NO_URL", "the Service became Ready without a URL");
      outcome = { status: "ready", url: result.url };
    } else if (result.status === "failed") {
      outcome = { status: "failed", reason: reasonCode(result.reason), message: result.message };
    } else if (result.status === "timeout") {
      outcome = { status: "failed", reason: "READY_TIMEOUT", message: result.message };
    } else {
      logger.info({ message: result.message }, "service gone while waiting: deleted meanwhile");
      return;
    }
    const written = await recordOutcome(services.db, ids, outcome, source);
    logger.info({ outcome: outcome.status, emitted: written?.id ?? null }, "deployment resolved");
  };
}
