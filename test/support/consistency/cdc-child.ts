/**
 * The CDC pipeline of the consistency run (run.ts) as a real child process, so it can be SIGKILLed
 * and restarted mid-run: the project's consumer for the source in CONS_SOURCE into Valkey.
 * - `kafka`: the Kafka CDC consumer (consumers/kafka), restarted from its group's last committed
 *   offset. CONS_BROKERS, CONS_TOPIC, CONS_GROUP.
 * - `dynamodb`: the DynamoDB Streams poller (consumers/dynamodb) with shard leases and checkpoints
 *   in files. CONS_DDB_ENDPOINT, CONS_TABLE, CONS_STATE_DIR, CONS_WORKER.
 * Both: CONS_VALKEY (URL; `engine://host:port` for the engine server), CONS_RULES (JSON), CONS_FENCING (`0` = the test-only unfenced target),
 * CONS_LOG (`1`: the consumer's JSON log lines at info and above on stderr, e.g. group joins and
 * retries, to see why a drain is slow; silent otherwise), CONS_MAX_WAIT_MS (the Kafka fetch wait,
 * e.g. kafkajs's former 5000 against the 6 s session; the adapter's default otherwise).
 * Prints `ready` on stdout once started.
 */
import { createAwsStreamsClient } from '../../../consumers/dynamodb/aws-streams-client.ts';
import { createDynamoDbPoller } from '../../../consumers/dynamodb/dynamodb-poller.ts';
import { createFileLeaseStore } from '../../../consumers/dynamodb/file-lease-store.ts';
import { createKafkaCdcConsumer } from '../../../consumers/kafka/kafka-cdc-consumer.ts';
import { createKafkajsClient } from '../../../consumers/kafka/kafkajs-client.ts';
import { createConsumerMetrics } from '../../../consumers/runtime/consumer-metrics.ts';
import { createJsonLogger, silentLogger } from '../../../consumers/runtime/logger.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`cdc-child: ${name} is not set`);
  return v;
};

// CONS_VALKEY may name the engine server (engine://host:port): the near-cache readers' second backend.
const url = env('CONS_VALKEY');
const target = url.startsWith('engine://')
  ? createEngineRemoteTarget({ url: `valkey://${url.slice('engine://'.length)}` })
  : await createValkeyTarget({ url, fencing: env('CONS_FENCING') !== '0' });
const common = {
  config: compileConfig(JSON.parse(env('CONS_RULES')), 'CONS_RULES'),
  target,
  deadLetter: async (d: { position: string; reason: string }) => {
    process.stderr.write(`dead letter: ${d.position}: ${d.reason}\n`);
  },
  metrics: createConsumerMetrics(),
  logger: process.env.CONS_LOG === '1' ? createJsonLogger({ level: 'info' }) : silentLogger,
};
const source = env('CONS_SOURCE');
let consumer: { start(): Promise<void>; stop(): Promise<void> };
if (source === 'kafka') {
  const client = createKafkajsClient({ brokers: env('CONS_BROKERS').split(','), clientId: 'cons-cdc' });
  const admin = client.admin();
  consumer = createKafkaCdcConsumer({
    consumer: client.consumer({
      groupId: env('CONS_GROUP'),
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      ...(process.env.CONS_MAX_WAIT_MS !== undefined
        ? { maxWaitTimeMs: Number(process.env.CONS_MAX_WAIT_MS) }
        : {}),
    }),
    topics: [env('CONS_TOPIC')],
    fromBeginning: true,
    // A partition with lag and no committed progress for 18 s is logged (CONS_LOG=1).
    watchdog: { admin, groupId: env('CONS_GROUP'), sessionTimeoutMs: 6000 },
    ...common,
  });
} else if (source === 'dynamodb') {
  consumer = createDynamoDbPoller({
    streams: createAwsStreamsClient({ region: 'us-east-1', endpoint: env('CONS_DDB_ENDPOINT') }),
    table: env('CONS_TABLE'),
    startPosition: 'TRIM_HORIZON',
    leases: await createFileLeaseStore({ dir: env('CONS_STATE_DIR') }),
    workerId: env('CONS_WORKER'),
    leaseTtlMs: 2000,
    ...common,
  });
} else {
  throw new Error(`cdc-child: CONS_SOURCE is ${source}; expected kafka or dynamodb`);
}
await consumer.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void consumer
    .stop()
    .then(() => target.close())
    .finally(() => process.exit(0));
});
