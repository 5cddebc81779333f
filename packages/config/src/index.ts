export { EnvError, flag, loadEnvOrExit, optionalUrl, parseEnv, port } from "./env.js";
export { defaultInfra, type InfraEndpoints } from "./infra.js";
