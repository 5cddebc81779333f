import { createDb } from "./create-db.js";
import { describeTenantIsolation } from "./testing/tenant-isolation-suite.js";

// The embedded engine: a fresh in-memory PGlite per open(). Real PostgreSQL runs the same suite in
// tenant-isolation.int.test.ts.
describeTenantIsolation({
  name: "pglite",
  open: async () => {
    const handle = createDb({});
    return { handle, dispose: () => handle.close() };
  },
});
