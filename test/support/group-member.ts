/**
 * One member of a Kafka consumer group in a process of its own, for group fault tests
 * (test/e2e/consumers/kafka-rejoin-error.test.ts): the `@platformatic/kafka` adapter
 * (consumers/kafka/platformatic-client.ts) consuming MEMBER_TOPIC under MEMBER_GROUP from
 * MEMBER_BROKERS and resolving every record it is handed. A test may SIGSTOP it (a member that stops
 * answering without leaving the group) or SIGKILL it; a crash of the process is its exit.
 *
 * Prints one JSON object per line on stdout:
 * - `{"event":"ready"}` once `run()` returned;
 * - `{"event":"joined","assigned":{…}}` at every group join;
 * - `{"event":"joinGroup"}` whenever the library starts a JoinGroup (from its diagnostics channel
 *   `plt:kafka:consumer:group`), so a test can tell a rejoin is in flight;
 * - `{"event":"crash","message":…,"restart":…}` for every call of the port's crash listeners;
 * - `{"event":"applied","partition":…,"offset":…}` for every record handled.
 *
 * MEMBER_SESSION_MS (default 10000), MEMBER_HEARTBEAT_MS (default 500). SIGTERM: stop, leave the
 * group, exit 0.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createPlatformaticClient } from '../../consumers/kafka/platformatic-client.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`group-member: ${name} is not set`);
  return v;
};
const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

subscribe('tracing:plt:kafka:consumer:group:start', (context) => {
  if ((context as { operation?: string }).operation === 'joinGroup') print({ event: 'joinGroup' });
});

const client = createPlatformaticClient({
  brokers: env('MEMBER_BROKERS').split(','),
  clientId: 'group-member',
});
const consumer = client.consumer({
  groupId: env('MEMBER_GROUP'),
  sessionTimeoutMs: Number(process.env.MEMBER_SESSION_MS ?? 10_000),
  heartbeatIntervalMs: Number(process.env.MEMBER_HEARTBEAT_MS ?? 500),
  maxWaitTimeMs: 500,
});
consumer.onGroupJoin((assigned) => print({ event: 'joined', assigned }));
consumer.onCrash((error, restart) => print({ event: 'crash', message: error.message, restart }));
await consumer.connect();
await consumer.subscribe([env('MEMBER_TOPIC')], true);
await consumer.run({
  partitionsConsumedConcurrently: 4,
  async eachBatch(batch, c) {
    for (const m of batch.messages) {
      print({ event: 'applied', partition: batch.partition, offset: m.offset });
      c.resolveOffset(m.offset);
    }
  },
});
print({ event: 'ready' });
process.on('SIGTERM', () => {
  void consumer
    .stop()
    .then(() => consumer.disconnect())
    .finally(() => process.exit(0));
});
