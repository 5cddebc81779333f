export { buildAsyncApi, renderAsyncApi } from "./asyncapi.js";
export { renderGenerated, writeGenerated } from "./generate.js";
export { dataJsonSchema, renderJsonSchemas, SCHEMA_BASE_URL } from "./json-schemas.js";
