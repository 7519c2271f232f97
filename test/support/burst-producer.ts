/**
 * Child process of kafka-burst-memory.test.ts: appends the burst's backlog to a topic, so the test
 * process's RSS baseline does not include the producer's copies of ~480 MB of values.
 *
 *   node test/support/burst-producer.ts <brokers> <topic> <records> <valueBytes>
 *
 * Records: Debezium (no schemas) updates of `public.customers` rows over 600 ids, each carrying a
 * `notes` column of `valueBytes` characters; round-robin over 4 partitions, 20 per request (5 per
 * partition, so each record batch stays under the broker's 1 MB message.max.bytes).
 */
import { Kafka, logLevel } from 'kafkajs';

const [brokers = '', topic = '', records = '0', valueBytes = '0'] = process.argv.slice(2);
const n = Number(records);

function record(i: number): { key: string; value: string; partition: number } {
  const id = i % 600;
  const now = Date.now();
  const row = { id, name: `Customer ${id}`, notes: String(i % 10).repeat(Number(valueBytes)) };
  const source = { connector: 'postgresql', name: 'dbz_plain', ts_ms: now, db: 'cdc' };
  return {
    key: JSON.stringify({ id }),
    partition: i % 4,
    value: JSON.stringify({
      before: null,
      after: row,
      source: { ...source, schema: 'public', table: 'customers', txId: 1000 + i, lsn: 1_000_000 + i * 8 },
      op: 'u',
      ts_ms: now,
    }),
  };
}

const kafka = new Kafka({
  brokers: brokers.split(','),
  clientId: 'burst-producer',
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer();
await producer.connect();
for (let i = 0; i < n; i += 20) {
  await producer.send({
    topic,
    messages: Array.from({ length: Math.min(20, n - i) }, (_, j) => record(i + j)),
  });
}
await producer.disconnect();
