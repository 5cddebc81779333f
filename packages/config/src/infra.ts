/**
 * Ports of the project-owned local services (`pnpm infra up`). Chosen off the standard ports so a
 * system PostgreSQL/Redis/Kafka cannot be mistaken for ours. One place: scripts and tests read these.
 */
export const defaultInfra = {
  postgres: { host: "127.0.0.1", port: 55432, user: "maas", password: "maas", database: "maas" },
  redis: { host: "127.0.0.1", port: 56379 },
  kafka: { host: "127.0.0.1", port: 59092, controllerPort: 59093 },
  minio: {
    host: "127.0.0.1",
    port: 59000,
    consolePort: 59001,
    accessKey: "maasadmin",
    secretKey: "maasadmin-secret",
  },
} as const;

export type InfraEndpoints = typeof defaultInfra;
