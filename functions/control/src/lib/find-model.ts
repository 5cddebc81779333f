import type { Database, Model } from "@maas/db";
import { AppError } from "@maas/errors";
import type { Transaction } from "kysely";

/**
 * A live model of the transaction's tenant by id (`mdl_…`) or name, or 404. `lock` takes a row
 * lock so concurrent uploads of one model number their versions one after another.
 */
export async function findModel(
  trx: Transaction<Database>,
  ref: string,
  options: { lock?: boolean } = {},
): Promise<Model> {
  let query = trx
    .selectFrom("models")
    .selectAll()
    .where("deleted_at", "is", null)
    .where(ref.startsWith("mdl_") ? "id" : "name", "=", ref);
  if (options.lock) query = query.forUpdate();
  const model = await query.executeTakeFirst();
  if (model === undefined) throw new AppError("NOT_FOUND", `model ${ref} not found`);
  return model;
}
