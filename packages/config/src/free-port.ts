import { createServer } from "node:net";

/**
 * A TCP port free on `host` right now (the OS picks it; the listener is closed before returning, so
 * another process can still take it first: callers that start a server on it retry or fail loudly).
 *
 * @example
 * const port = await freePort(); // then PORT=<port> for a child process
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
