export {
  decodeHttp,
  type EncodedHttp,
  encodeHttpBinary,
  encodeHttpStructured,
  type HttpHeadersInput,
} from "./http.js";
export { decodeKafka, type EncodedKafka, encodeKafka, type KafkaMode, type KafkaRecord } from "./kafka.js";
