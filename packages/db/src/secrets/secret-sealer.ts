import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { z } from "zod";

/** `sealed:v1:<key id>:<iv>:<ciphertext+tag>` (base64url parts): what a sealed column holds. */
const SEALED = /^sealed:v1:([0-9a-f]{8}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/;
const TAG_BYTES = 16;

/** SECRETS_KEY: 32 random bytes, base64 (`openssl rand -base64 32`). */
export const secretsKeySchema = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const key = Buffer.from(v, "base64");
    if (key.length !== 32 || key.toString("base64") !== v.replace(/\s/g, "")) {
      ctx.addIssue({
        code: "custom",
        message: "SECRETS_KEY must be 32 bytes, base64 (openssl rand -base64 32)",
      });
      return z.NEVER;
    }
    return key;
  });

/**
 * The variable both the writer (control) and the reader (notifier) of sealed secrets take. Unset or
 * empty: secrets are stored as they are (local runs), which each says at start.
 */
export const secretsEnvSchema = z.object({
  SECRETS_KEY: z.preprocess((v) => (v === "" ? undefined : v), secretsKeySchema.optional()),
});

/**
 * Encrypts secrets the platform must read back (webhook signing secrets) before they reach the
 * database: AES-256-GCM with a fresh IV each, the row's id as associated data (a sealed value copied
 * to another row does not open), and the key's id in the value (a value sealed under another key is
 * refused with a clear error, not garbage). Without a key it stores and returns values as they are —
 * local runs and tests — and says so once at start (`encrypting`).
 *
 * @example
 * const sealer = SecretSealer.fromKey(env.SECRETS_KEY);
 * row.secret = sealer.seal(secret, row.id);
 * const secret = sealer.open(row.secret, row.id);
 */
export class SecretSealer {
  readonly #key: Buffer | undefined;
  readonly #keyId: string | undefined;

  private constructor(key: Buffer | undefined) {
    this.#key = key;
    this.#keyId = key === undefined ? undefined : createHash("sha256").update(key).digest("hex").slice(0, 8);
  }

  /** A sealer for a 32-byte key; undefined: values pass through in plain text. */
  static fromKey(key: Buffer | undefined): SecretSealer {
    return new SecretSealer(key);
  }

  get encrypting(): boolean {
    return this.#key !== undefined;
  }

  seal(plain: string, rowId: string): string {
    if (this.#key === undefined) return plain;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(rowId));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `sealed:v1:${this.#keyId}:${iv.toString("base64url")}:${body.toString("base64url")}`;
  }

  /** The plain value: a sealed one decrypted, an unsealed one (stored before a key was set) as is. */
  open(stored: string, rowId: string): string {
    const m = SEALED.exec(stored);
    if (m === null) return stored;
    const [, keyId, iv, body] = m as unknown as [string, string, string, string];
    if (this.#key === undefined) throw new Error("a sealed secret needs SECRETS_KEY to open");
    if (keyId !== this.#keyId)
      throw new Error(`secret sealed under key ${keyId}, SECRETS_KEY is ${this.#keyId}`);
    const bytes = Buffer.from(body, "base64url");
    if (bytes.length < TAG_BYTES) throw new Error("sealed secret is truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(rowId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    // final() throws when the tag does not match: another row's value, tampering, a wrong key.
    return Buffer.concat([
      decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  }
}
