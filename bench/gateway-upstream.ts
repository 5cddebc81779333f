// A minimal stand-in for the inference service (bench/gateway.ts): answers v2 infer at once with a
// fixed JSON body and the compute-time header, so the benchmark measures the gateway's own cost.
import { createServer } from "node:http";

const body = JSON.stringify({
  model_name: "m",
  model_version: "1",
  outputs: [{ name: "y", shape: [1, 4], datatype: "FP32", data: [0.1, 0.2, 0.3, 0.4] }],
});
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-inference-compute-ms": "0.050",
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
  );
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
