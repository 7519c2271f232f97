/**
 * Reusable constructs for deploying cdc-cache in your own CDK stacks (see README "Deployment").
 */
export type { CacheConnection } from './cache-connection.ts';
export { CACHE_FUNCTION_DEFAULTS, CacheFunction, type CacheFunctionProps } from './cache-function.ts';
export { CDC_ALARMS_DEFAULTS, CdcAlarms, type CdcAlarmsProps } from './cdc-alarms.ts';
export { CdcCacheStack, type CdcCacheStackProps, consumerImageAsset } from './cdc-cache-stack.ts';
export {
  CONSUMER_SERVICE_DEFAULTS,
  type ConsumerKafkaProps,
  ConsumerService,
  type ConsumerServiceProps,
  mskConsumerLag,
} from './consumer-service.ts';
export { checkDeployConfig, type DeployConfig, type DeployTable, loadDeployConfig } from './deploy-config.ts';
export type { ContainerServiceProps } from './fargate-consumer.ts';
export {
  KAFKA_TO_HANDLER_DEFAULTS,
  KafkaToHandler,
  type KafkaToHandlerProps,
  type MskSource,
  type SelfManagedKafkaSource,
} from './kafka-to-handler.ts';
export {
  SERVERLESS_VALKEY_DEFAULTS,
  ServerlessValkey,
  type ServerlessValkeyProps,
} from './serverless-valkey.ts';
export {
  STREAM_POLLER_DEFAULTS,
  StreamPollerService,
  type StreamPollerServiceProps,
} from './stream-poller-service.ts';
export {
  STREAM_TO_HANDLER_DEFAULTS,
  StreamToHandler,
  type StreamToHandlerProps,
} from './stream-to-handler.ts';
export { imagesNeededFor, streamViewTypeFor } from './stream-view-type.ts';
