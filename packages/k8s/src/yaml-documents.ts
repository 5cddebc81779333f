import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

/** Every YAML document in a file, skipping empty ones (comments only, trailing `---`). */
export async function readYamlDocuments(file: string): Promise<unknown[]> {
  const text = await readFile(file, "utf8");
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}
