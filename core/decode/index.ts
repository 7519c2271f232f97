/** Decoders: every source record → one ChangeEvent model. */
export { DEFAULT_UNAVAILABLE_PLACEHOLDER, decodeDebeziumValue, type KafkaContext } from './debezium.ts';
export { formatDecimal, unscaledFromBase64 } from './debezium-schema.ts';
export { decodeDebeziumText } from './debezium-text.ts';
export {
  type DecodeOptions,
  decodeDocument,
  parseDocument,
  type SourceHint,
  SourceHints,
  type SourceRecord,
  splitDocument,
} from './document.ts';
export { creationTimeMs, type DynamoDbContext, decodeDynamoDbRecord, tableFromArn } from './dynamodb.ts';
export { simplifyExtendedJson } from './mongodb.ts';
