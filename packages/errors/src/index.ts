export { AppError, type AppErrorOptions, type ErrorBody, isAppError } from "./app-error.js";
export { docsUrl, ERROR_CODES, type ErrorCode, type ErrorStatus } from "./codes.js";
export { validationError, zodIssues } from "./zod-error.js";
