import { afterAll, beforeAll } from "vitest";
import { createHarness, type Harness } from "./harness.js";
import { securitySuite } from "./security-suite.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
}, 60_000);
afterAll(() => h.close());

securitySuite("deployments", () => h);
