import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { renderTenantNamespace } from "./render-tenant-namespace.js";

// `tsx packages/k8s/src/write-tenant-template.ts`: rewrites infra/tenant/namespace.yaml from the
// renderer (the deployer applies the same objects per tenant; a test fails when the file drifts).
const out = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../infra/tenant/namespace.yaml",
);
const docs = renderTenantNamespace({ id: "tnt_example", slug: "example" }).map((o) =>
  stringify(JSON.parse(JSON.stringify(o))),
);
writeFileSync(
  out,
  `# The tenant namespace template, rendered for a tenant "example" (tnt_example) by
# packages/k8s/src/write-tenant-template.ts; the deployer applies the same objects on tenant.created.
${docs.join("---\n")}`,
);
process.stdout.write(`wrote ${out}\n`);
