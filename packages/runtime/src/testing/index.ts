export { captureLogger, type LogLine } from "./capture-logger.js";
export { itBehavesLikeAFunction, postEvent } from "./function-contract.js";
