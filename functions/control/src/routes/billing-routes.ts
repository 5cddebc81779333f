import type { ControlApp } from "../control-env.js";
import type { ControlServices } from "../services.js";
import { registerV1InvoicesGet } from "./v1-invoices-get.js";
import { registerV1InvoicesList } from "./v1-invoices-list.js";
import { registerV1SpendGet } from "./v1-spend-get.js";
import { registerV1UsageCsv } from "./v1-usage-csv.js";
import { registerV1UsageGet } from "./v1-usage-get.js";
import { registerV1WebhooksCreate } from "./v1-webhooks-create.js";
import { registerV1WebhooksDelete } from "./v1-webhooks-delete.js";
import { registerV1WebhooksDeliveries } from "./v1-webhooks-deliveries.js";
import { registerV1WebhooksList } from "./v1-webhooks-list.js";

/**
 * Usage, spend, invoices, CSV export and webhooks (issue 7), registered after authenticate().
 *
 * @example
 * registerBillingRoutes(api, services); // in createControlApi, next to the other registrations
 */
export function registerBillingRoutes(app: ControlApp, services: ControlServices): void {
  registerV1UsageGet(app, services);
  registerV1UsageCsv(app, services);
  registerV1SpendGet(app, services);
  registerV1InvoicesList(app, services);
  registerV1InvoicesGet(app, services);
  registerV1WebhooksCreate(app, services);
  registerV1WebhooksList(app, services);
  registerV1WebhooksDelete(app, services);
  registerV1WebhooksDeliveries(app, services);
}
