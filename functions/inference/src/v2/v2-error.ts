/**
 * An error answered in the Open Inference Protocol's own shape, `{ "error": "<message>" }` (REST spec,
 * "Inference Response JSON Object" / error object). The v2 routes use it instead of the platform's
 * `{ error: { code, … } }` body because stock KServe and Triton clients read `error` as a string.
 */
export class V2Error extends Error {
  constructor(
    readonly status: 400 | 404 | 413 | 500 | 503,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "V2Error";
  }
}
