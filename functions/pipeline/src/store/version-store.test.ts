import { createDb } from "@maas/db";
import { describeVersionStore } from "./version-store-suite.js";

describeVersionStore({
  name: "pglite",
  open: async () => {
    const handle = createDb();
    return { handle, dispose: () => handle.close() };
  },
});
