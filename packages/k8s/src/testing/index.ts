export {
  FAKE_FAIL_ANNOTATION,
  type FakeApiServer,
  type FakeApiServerOptions,
  simulatedKnative,
  startFakeApiServer,
} from "./fake-api-server.js";
