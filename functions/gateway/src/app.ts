import { authenticate, requestAuthenticator } from "@maas/auth";
import { createFunction, type FunctionDeps, httpMetricsRecorder, type MaasFunction } from "@maas/runtime";
import { registerV2Infer } from "./routes/v2-infer.js";
import { nativeInfer } from "./routes/v2-infer-native.js";
import { registerV2Model } from "./routes/v2-model.js";
import { registerV2Server } from "./routes/v2-server.js";
import type { GatewayEnv, GatewayServices } from "./services.js";

export type { GatewayServices, QuotaPort, UsageSink } from "./services.js";

/**
 * The gateway function (DESIGN §2): the Open Inference Protocol v2 data plane under each tenant's
 * own model names: authenticate, resolve the deployment, one quota decision, stream to the model's
 * inference service and back, emit usage.
 *
 * @example
 * const fn = createGateway(services, { logger });
 * await fn.app.request("/v2/models/resnet/infer", { method: "POST", headers: { authorization: `Bearer ${key}` }, body });
 */
export function createGateway(
  services: GatewayServices,
  deps: FunctionDeps & { onShutdown?: () => Promise<void> } = {},
): MaasFunction<GatewayEnv> {
  let fn: MaasFunction<GatewayEnv> | undefined;
  fn = createFunction<GatewayEnv>({
    name: "gateway",
    ...deps,
    // The served port answers infer with small bodies on node:http's own objects (the hot path);
    // the app below serves the same route for everything else, and app.request in tests.
    intercept: ({ name, logger, registry }) =>
      nativeInfer(services, {
        authenticate: requestAuthenticator({ verifier: services.verifier }),
        logger,
        recordHttp: httpMetricsRecorder({ registry, functionName: name }),
      }),
    routes(app) {
      registerV2Server(app, { isReady: () => fn?.isReady() ?? false, version: deps.version ?? "0.1.0" });
      app.use("/v2/models/*", authenticate({ verifier: services.verifier }));
      registerV2Infer(app, services);
      registerV2Model(app, services);
    },
  });
  return fn;
}
