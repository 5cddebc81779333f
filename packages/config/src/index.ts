export { EnvError, flag, loadEnvOrExit, optionalUrl, parseEnv, port } from "./env.js";
export { freePort } from "./free-port.js";
export { defaultInfra, type InfraEndpoints } from "./infra.js";
