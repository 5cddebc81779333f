import { createDb } from "@maas/db";
import { describeAuth } from "./testing/auth-suite.js";

// The embedded engine; auth.int.test.ts runs the same suite on real PostgreSQL.
describeAuth({
  name: "pglite",
  open: async () => {
    const handle = createDb({});
    return { handle, dispose: () => handle.close() };
  },
});
