import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { ControlApp } from "../control-env.js";

/** The swagger-ui-dist files the page loads, with their media types: nothing else is served. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

/** Started by the page; a file rather than an inline script so a strict CSP can forbid inline code. */
const INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    persistAuthorization: false
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MaaS control API</title>
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-ui-standalone-preset.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

/**
 * The interactive docs page at `GET /docs`, Swagger UI served from the `swagger-ui-dist` package
 * installed with this function (no CDN: the page works air-gapped and pins the UI version).
 *
 * @example
 * registerDocs(app); // GET /docs, GET /docs/swagger-ui-bundle.js …
 */
export function registerDocs(app: ControlApp): void {
  const distDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const cache = new Map<string, Buffer>();
  // Relative URLs (`docs/…`, `openapi.json`) keep the page working behind a path prefix.
  app.get("/docs", (c) => c.html(PAGE));
  app.get("/docs/init.js", (c) => c.body(INIT_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/docs/:file", async (c) => {
    const file = c.req.param("file");
    const type = ASSETS[file];
    if (type === undefined) return c.notFound();
    let bytes = cache.get(file);
    if (bytes === undefined) {
      bytes = await readFile(path.join(distDir, file));
      cache.set(file, bytes);
    }
    return c.body(new Uint8Array(bytes), 200, {
      "content-type": type,
      "cache-control": "public, max-age=86400",
    });
  });
}
