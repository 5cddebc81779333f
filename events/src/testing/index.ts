export { sampleData, sampleTenantCreated } from "./fixtures.js";
export {
  committedOffset,
  createTestTopic,
  databaseUrl,
  deleteTestTopics,
  kafkaBrokers,
  waitFor,
} from "./infra.js";
