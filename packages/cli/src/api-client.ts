import { ERROR_CODES, type ErrorCode } from "@maas/errors";
import { type Dispatcher, request } from "undici";
import type { z } from "zod";
import {
  completeResponse,
  createModelResponse,
  errorBodySchema,
  getModelResponse,
  listModelsResponse,
  partUrlsResponse,
  uploadResponse,
  uploadStatusResponse,
} from "./api-schemas.js";
import { CliError } from "./cli-error.js";

export interface ApiClientOptions {
  endpoint: string;
  apiKey: string;
  /** The undici dispatcher (connection pool) shared with the part uploads. */
  dispatcher?: Dispatcher;
  /** Aborts every call in flight (Ctrl-C). */
  signal?: AbortSignal;
}

/** Answers worth another try: the server or something in between was briefly unable. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * A typed client for the control API's model and upload routes (`/v1`), every answer checked with
 * zod. Failures are `CliError`s carrying the platform's error code.
 *
 * @example
 * const api = createApiClient({ endpoint: "http://127.0.0.1:8080", apiKey });
 * const { models } = await api.listModels();
 */
export function createApiClient(options: ApiClientOptions) {
  const base = options.endpoint.replace(/\/+$/, "");

  async function call<S extends z.ZodType>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (options.signal?.aborted) throw new CliError("INTERRUPTED", "interrupted", { cause: err });
      throw new CliError("NETWORK", `cannot reach ${base}: ${(err as Error).message}`, {
        retryable: true,
        cause: err,
      });
    }
    const text = await res.body.text();
    const json = parseJson(text);
    if (res.statusCode >= 400) throw errorFromResponse(res.statusCode, json, text);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        "BAD_RESPONSE",
        `unexpected answer from ${method} ${path}: ${parsed.error.issues[0]?.message}`,
        {
          status: res.statusCode,
        },
      );
    }
    return parsed.data;
  }

  const enc = encodeURIComponent;
  return {
    endpoint: base,
    apiKey: options.apiKey,
    listModels: () => call("GET", "/v1/models", listModelsResponse),
    getModel: (model: string) => call("GET", `/v1/models/${enc(model)}`, getModelResponse),
    createModel: (input: { name: string; description?: string }) =>
      call("POST", "/v1/models", createModelResponse, input),
    createUpload: (model: string, input: { sizeBytes: number; sha256: string; filename?: string }) =>
      call("POST", `/v1/models/${enc(model)}/uploads`, uploadResponse, input),
    getUpload: (uploadId: string) => call("GET", `/v1/uploads/${enc(uploadId)}`, uploadStatusResponse),
    partUrls: (uploadId: string, partNumbers: number[]) =>
      call("POST", `/v1/uploads/${enc(uploadId)}/parts`, partUrlsResponse, { partNumbers }),
    completeUpload: (uploadId: string) =>
      call("POST", `/v1/uploads/${enc(uploadId)}/complete`, completeResponse, {}),
    abortUpload: (uploadId: string) => call("DELETE", `/v1/uploads/${enc(uploadId)}`, uploadResponse),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Maps an error answer to a CliError; a body that is not the platform's gets a code from the status. */
export function errorFromResponse(status: number, json: unknown, text = ""): CliError {
  const body = errorBodySchema.safeParse(json);
  const retryable = RETRYABLE_STATUS.has(status);
  if (body.success) {
    const { code, message, requestId, details } = body.data.error;
    const known = code in ERROR_CODES ? (code as ErrorCode) : codeForStatus(status);
    return new CliError(known, message, { status, details, retryable, ...(requestId ? { requestId } : {}) });
  }
  const snippet = text.trim().slice(0, 200);
  return new CliError(codeForStatus(status), `HTTP ${status}${snippet ? `: ${snippet}` : ""}`, {
    status,
    retryable,
  });
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return "BAD_REQUEST";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 410:
      return "GONE";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 429:
      return "RATE_LIMITED";
    case 502:
      return "UPSTREAM_UNAVAILABLE";
    case 503:
      return "NOT_READY";
    case 504:
      return "TIMEOUT";
    default:
      return "INTERNAL";
  }
}
