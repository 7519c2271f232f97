/**
 * Captures test/fixtures/captured/debezium-postgres-default-identity.jsonl: the insert, update and
 * DELETE of one `public.orders` row (REPLICA IDENTITY DEFAULT, the PostgreSQL default) as both
 * Debezium connectors of the harness write them — with schemas and without. The delete's old image
 * holds the key column only; Debezium fills the NOT NULL columns with type stand-ins (0, "", the
 * epoch), which is what the partial-image detection (core/decode/partial-image.ts) must recognise.
 *
 *   npm run services:up && node infra/local/capture-default-identity.ts [OUT_FILE]
 *
 * Unlike capture-fixtures.ts it truncates nothing: it uses row ids of its own, so it may run
 * beside other tests.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKafkaClient, toolKafkaClientName } from '../../consumers/kafka/kafka-client.ts';
import { toJsonl } from '../../consumers/record/capture.ts';
import { capturePgScenario } from './capture-fixtures.ts';

/** Row ids of the committed capture (chosen apart from the scenario's 1001/5001/1). */
export const DEFAULT_IDENTITY_IDS = { customer: 770001, order: 770003, document: 770002 };

function env(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new Error(`${name} is not set: eval "$(bash infra/local/services.sh env)"`);
  return v;
}

async function main(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out =
    process.argv[2] ??
    path.join(here, '../../test/fixtures/captured/debezium-postgres-default-identity.jsonl');
  const kafka = await createKafkaClient(
    { clientId: 'cdc-cache-capture-default-identity', brokers: env('CDC_CACHE_KAFKA_BROKERS').split(',') },
    toolKafkaClientName(),
  );
  const prefixes = [env('CDC_CACHE_DEBEZIUM_SCHEMA_PREFIX'), env('CDC_CACHE_DEBEZIUM_PLAIN_PREFIX')];
  const captured = await capturePgScenario(kafka, {
    pgUrl: env('CDC_CACHE_PG_URL'),
    prefixes,
    ids: DEFAULT_IDENTITY_IDS,
  });
  const orders = captured.flatMap((lines) => lines.filter((l) => l.topic.endsWith('.public.orders')));
  writeFileSync(out, toJsonl(orders));
  process.stdout.write(`wrote ${orders.length} records to ${out}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`capture-default-identity: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
