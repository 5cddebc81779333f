export { captureLogger, type LogLine } from "./capture-logger.js";
