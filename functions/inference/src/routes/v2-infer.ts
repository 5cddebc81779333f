import { type AppEnv, bodyLimit } from "@maas/runtime";
import type { Context, Hono } from "hono";
import type { ModelServer } from "../model/model-server.js";
import { decodeInferRequest, INFERENCE_HEADER } from "../v2/decode-request.js";
import { encodeInferResponse } from "../v2/encode-response.js";
import { v2ErrorResponse } from "../v2/respond.js";
import { V2Error } from "../v2/v2-error.js";
import { lookupModel } from "./model-lookup.js";

/** Response headers the gateway reads for metering (milliseconds, decimal). */
export const COMPUTE_MS_HEADER = "x-inference-compute-ms";
export const QUEUE_MS_HEADER = "x-inference-queue-ms";
export const BATCH_ROWS_HEADER = "x-inference-batch-rows";

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer`: JSON or binary-tensor-extension requests, answered
 * in kind; bodies over `maxRequestBytes` get 413. Compute and queue time go out as headers
 * (`x-inference-compute-ms`, `x-inference-queue-ms`) so the gateway can meter without parsing.
 *
 * @example
 * registerV2Infer(app, model, { maxRequestBytes: 64 << 20 });
 */
export function registerV2Infer(
  app: Hono<AppEnv>,
  model: ModelServer,
  options: { maxRequestBytes: number },
): void {
  const limit = bodyLimit({
    maxSize: options.maxRequestBytes,
    onError: (c) => c.json({ error: `request body exceeds ${options.maxRequestBytes} bytes` }, 413),
  });
  const handler = async (c: Context<AppEnv>) => {
    try {
      const m = lookupModel(model, c.req.param("name") ?? "", c.req.param("version"));
      const signature = m.signature();
      if (!signature || !m.isReady()) throw new V2Error(503, `model ${m.name} is not ready`, 1);
      const body = new Uint8Array(await c.req.arrayBuffer());
      const request = decodeInferRequest(body, c.req.header(INFERENCE_HEADER), signature);
      const result = await m.infer(request);
      const encoded = encodeInferResponse(result.outputs, {
        modelName: m.name,
        modelVersion: m.version,
        outputs: request.outputs,
        binaryByDefault: request.binaryByDefault,
        ...(request.id !== undefined ? { id: request.id } : {}),
      });
      return c.body(encoded.body as string, 200, {
        ...encoded.headers,
        [COMPUTE_MS_HEADER]: result.computeMs.toFixed(3),
        [QUEUE_MS_HEADER]: result.queueMs.toFixed(3),
        [BATCH_ROWS_HEADER]: String(result.batchRows),
      });
    } catch (err) {
      return v2ErrorResponse(c, err);
    }
  };
  app.post("/v2/models/:name/infer", limit, handler);
  app.post("/v2/models/:name/versions/:version/infer", limit, handler);
}
