/**
 * The Kafka consumer benchmark's load (bench/consumers/load-records.ts) plans without a dead letter
 * under the benchmark's own rules, past the first `keys` records too: an update without its old
 * image is a partial image to the email-keyed rule, the benchmark's dead-letter sink throws, and the
 * consumer retries that record forever — the "100k events never finish" stall (every partition
 * stopped at its first update, offset keys / partitions). Decoder and planner only; no services.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_RULES, loadRecord } from '../../../bench/consumers/load-records.ts';
import { decodeDebeziumText } from '../../../core/decode/debezium-text.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { planBatch } from '../../../core/plan/planner.ts';
import { compileConfig } from '../../../core/rules/compile.ts';

const config = compileConfig(BENCH_RULES);
const topic = 'bench-consumer-test';

function plan(from: number, to: number, keys: number) {
  const events: (ChangeEvent | null)[] = [];
  for (let i = from; i < to; i++) {
    const r = loadRecord(i, keys);
    // As the consumer decodes: with the record key (it names the key columns).
    events.push(
      decodeDebeziumText(r.value, { topic, partition: 0, offset: String(i), key: JSON.parse(r.key) }),
    );
  }
  return planBatch(config, events);
}

describe('consumer benchmark load records', () => {
  it('creates then updates every row, and every record plans (no dead letter)', () => {
    const keys = 50;
    const p = plan(0, 4 * keys, keys);
    expect(p.failures.map((f) => `${f.index}: ${f.error.code} ${f.error.message}`)).toEqual([]);
    expect(JSON.parse(loadRecord(keys - 1, keys).value).op).toBe('c');
    expect(JSON.parse(loadRecord(keys, keys).value).op).toBe('u');
  });

  it('an update carries the previous version of its row as the old image', () => {
    const keys = 10;
    const update = JSON.parse(loadRecord(27, keys).value);
    expect(update.before).toEqual(JSON.parse(loadRecord(17, keys).value).after);
    const p = plan(27, 28, keys);
    expect(p.failures).toEqual([]);
    expect(p.ops.map((o) => `${o.kind} ${'key' in o ? o.key : ''}`).sort()).toEqual([
      'invalidate bench:customer:email:user7@example.com',
      'refresh bench:customer:7',
    ]);
  });
});
