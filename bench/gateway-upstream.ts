// A minimal stand-in for the inference service (bench/gateway.ts), in its own process: answers v2
// infer with a fixed JSON body and the compute-time header, at once, so the benchmark measures the
// gateway's own cost. Models named `slow…` are held SLOW_MS (default 20 ms) to build up in-flight
// requests; `GET /stats` reports in-flight and the most ever in flight per model, `POST /stats/reset`
// clears them. Prints `{"port":N}` once listening.
import { createServer } from "node:http";

const slowMs = Number(process.env.SLOW_MS ?? 20);
const body = JSON.stringify({
  model_name: "m",
  model_version: "1",
  outputs: [{ name: "y", shape: [1, 4], datatype: "FP32", data: [0.1, 0.2, 0.3, 0.4] }],
});

interface ModelStats {
  inflight: number;
  maxInflight: number;
  received: number;
}
const stats = new Map<string, ModelStats>();

function modelOf(url: string): string {
  return /^\/v2\/models\/([^/]+)/.exec(url)?.[1] ?? "";
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (url === "/stats") {
    req.resume();
    if (req.method === "POST") stats.clear();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(Object.fromEntries(stats)));
    return;
  }
  const model = modelOf(url);
  let s = stats.get(model);
  if (s === undefined) {
    s = { inflight: 0, maxInflight: 0, received: 0 };
    stats.set(model, s);
  }
  const m = s;
  m.received++;
  m.inflight++;
  m.maxInflight = Math.max(m.maxInflight, m.inflight);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    m.inflight--;
  };
  res.on("close", end);
  req.resume();
  req.on("end", () => {
    const answer = () => {
      if (res.destroyed) return end();
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "x-inference-compute-ms": "0.050",
      });
      // Counted out before the last byte leaves: the gateway can only release after it.
      end();
      res.end(body);
    };
    if (model.startsWith("slow")) setTimeout(answer, slowMs);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
  );
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
