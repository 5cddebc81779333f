export * from "./catalog/index.js";
export * from "./codec/index.js";
export * from "./event/index.js";
export * from "./publish/index.js";
