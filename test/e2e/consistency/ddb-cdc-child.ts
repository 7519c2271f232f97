/**
 * The CDC pipeline of the DynamoDB consistency test as a real child process (SIGKILLed and restarted
 * mid-run): the project's DynamoDB Streams poller (consumers/dynamodb) with shard leases and
 * checkpoints in files, into Valkey. Environment: CONS_DDB_ENDPOINT, CONS_TABLE, CONS_STATE_DIR,
 * CONS_WORKER, CONS_VALKEY, CONS_RULES (JSON), CONS_FENCING (`0` = the test-only unfenced target).
 * Prints `ready` once started.
 */
import { createAwsStreamsClient } from '../../../consumers/dynamodb/aws-streams-client.ts';
import { createDynamoDbPoller } from '../../../consumers/dynamodb/dynamodb-poller.ts';
import { createFileLeaseStore } from '../../../consumers/dynamodb/file-lease-store.ts';
import { createConsumerMetrics } from '../../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../../consumers/runtime/logger.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`ddb-cdc-child: ${name} is not set`);
  return v;
};

const target = await createValkeyTarget({ url: env('CONS_VALKEY'), fencing: env('CONS_FENCING') !== '0' });
const streams = createAwsStreamsClient({ region: 'us-east-1', endpoint: env('CONS_DDB_ENDPOINT') });
const poller = createDynamoDbPoller({
  streams,
  table: env('CONS_TABLE'),
  startPosition: 'TRIM_HORIZON',
  leases: await createFileLeaseStore({ dir: env('CONS_STATE_DIR') }),
  workerId: env('CONS_WORKER'),
  leaseTtlMs: 2000,
  config: compileConfig(JSON.parse(env('CONS_RULES')), 'CONS_RULES'),
  target,
  deadLetter: async (d) => {
    process.stderr.write(`dead letter: ${d.position}: ${d.reason}\n`);
  },
  metrics: createConsumerMetrics(),
  logger: silentLogger,
});
await poller.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void poller
    .stop()
    .then(() => target.close())
    .finally(() => process.exit(0));
});
