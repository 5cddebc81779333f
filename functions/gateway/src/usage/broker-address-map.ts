import { connect, isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ISocketFactory } from "kafkajs";

/**
 * Parses `KAFKA_BROKER_ADDRESS_MAP` (`advertised=reachable[,…]`, e.g.
 * `kafka-0.kafka:9092=127.0.0.1:19092`) into a lookup. Empty or absent: no mapping.
 */
export function parseBrokerAddressMap(spec: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of (spec ?? "").split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    const [from, to] = trimmed.split("=").map((s) => s.trim());
    if (!from || !to || !/^[^:]+:\d+$/.test(from) || !/^[^:]+:\d+$/.test(to)) {
      throw new Error(`KAFKA_BROKER_ADDRESS_MAP: "${trimmed}" is not host:port=host:port`);
    }
    map.set(from, to);
  }
  return map;
}

/**
 * A kafkajs socket factory that dials a mapped address instead of the one the broker advertises.
 * Why: a client only uses the bootstrap list for the first metadata request and then dials the
 * addresses brokers advertise, so a port-forward or a proxy in front of a broker (the gateway tests'
 * interruptible TCP proxy) is bypassed unless every connection is redirected here. With TLS the
 * certificate is still checked against the advertised host name (SNI), as kafkajs does.
 *
 * @example
 * const kafka = createKafka({ brokers, clientId, config: { socketFactory: mappedSocketFactory(parseBrokerAddressMap(env.KAFKA_BROKER_ADDRESS_MAP)) } });
 */
export function mappedSocketFactory(map: ReadonlyMap<string, string>): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const target = map.get(`${host}:${port}`);
    const [toHost, toPort] = target === undefined ? [host, String(port)] : target.split(":");
    const to = { host: toHost ?? host, port: Number(toPort) };
    const socket = ssl
      ? tlsConnect({ ...to, ...(isIP(host) === 0 && { servername: host }), ...ssl }, onConnect)
      : connect(to, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}
