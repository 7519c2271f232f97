/**
 * The CDC pipeline of the consistency test as a real child process (so it can be SIGKILLed and
 * restarted from its group's last committed offset): the project's Kafka CDC consumer
 * (consumers/kafka) into Valkey. Configured by environment:
 * CONS_BROKERS, CONS_TOPIC, CONS_GROUP, CONS_VALKEY (URL), CONS_RULES (JSON), CONS_FENCING (`0` =
 * the test-only unfenced target). Prints `ready` on stdout once started.
 */

import { createKafkaCdcConsumer } from '../../../consumers/kafka/kafka-cdc-consumer.ts';
import { createKafkajsClient } from '../../../consumers/kafka/kafkajs-client.ts';
import { createConsumerMetrics } from '../../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../../consumers/runtime/logger.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`cdc-child: ${name} is not set`);
  return v;
};

const target = await createValkeyTarget({ url: env('CONS_VALKEY'), fencing: env('CONS_FENCING') !== '0' });
const client = createKafkajsClient({ brokers: env('CONS_BROKERS').split(','), clientId: 'cons-cdc' });
const consumer = createKafkaCdcConsumer({
  consumer: client.consumer({ groupId: env('CONS_GROUP'), sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 }),
  topics: [env('CONS_TOPIC')],
  fromBeginning: true,
  config: compileConfig(JSON.parse(env('CONS_RULES')), 'CONS_RULES'),
  target,
  deadLetter: async (d) => {
    process.stderr.write(`dead letter: ${d.position}: ${d.reason}\n`);
  },
  metrics: createConsumerMetrics(),
  logger: silentLogger,
});
await consumer.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void consumer
    .stop()
    .then(() => target.close())
    .finally(() => process.exit(0));
});
