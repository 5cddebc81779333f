import type { Database, SecretSealer } from "@maas/db";
import type { ObjectStore } from "@maas/storage";
import type { Kysely } from "kysely";

/** How uploads behave; every field has a default in `createControl`. */
export interface UploadSettings {
  /** An upload not completed within this many seconds expires (the cleanup job aborts it). */
  ttlSeconds: number;
  /** Lifetime of one presigned part URL (capped by the upload's own expiry). */
  presignSeconds: number;
  /** Smallest part size handed out (8 MiB by default; tests lower it to keep files small). */
  minPartSize: number;
}

/** What every control route needs, built once at start and passed to each registration. */
export interface ControlServices {
  db: Kysely<Database>;
  store: ObjectStore;
  /** UTC now; injected so expiry is testable. */
  clock: () => Date;
  /** Absolute base URL of this API as clients reach it (embedded part URLs point here). */
  publicUrl: string;
  uploads: UploadSettings;
  /** Seals webhook signing secrets before they are stored (SECRETS_KEY; plain text without one). */
  secrets: SecretSealer;
}
