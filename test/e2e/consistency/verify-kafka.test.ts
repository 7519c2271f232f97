/**
 * `cdc-cache verify --kafka` on the live Debezium topic: the verifier (a child process) follows
 * `dbz_plain.public.customers` with a consumer group of its own; the test writes a customer row and
 * plants the row's first version under its refresh key while the second one is the truth. The
 * verifier reports exactly that key stale at its last window (exit 1), and leaves no committed
 * offsets behind (it never commits).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { CLI } from '../../support/cli.ts';
import { committedOffsets, idBase, plainTopic, sql, testKafka } from '../../support/consumers.ts';

let valkey: Valkey;

beforeAll(() => {
  requireServices('kafka', 'postgres', 'connect', 'valkey');
  valkey = new Valkey(serviceEnv('CDC_CACHE_VALKEY_URL'));
});

afterAll(() => {
  valkey?.disconnect();
});

describe('cdc-cache verify --kafka', () => {
  it('follows the live topic and names the stale key (exit 1), committing nothing', async () => {
    const id = idBase();
    const prefix = `vkafka${id}:`;
    const group = `cdc-cache-verify-test-${id}`;
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-verify-kafka-'));
    const rules = join(dir, 'rules.json');
    writeFileSync(
      rules,
      JSON.stringify({
        keyPrefix: prefix,
        defaults: { ttl: 0 },
        rules: [
          {
            table: 'public.customers',
            keys: ['c:{id}'],
            refresh: { fields: ['id', 'email', 'name', 'tier'] },
          },
        ],
      }),
    );
    const args = [
      CLI,
      'verify',
      '--kafka',
      serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
      '--topic',
      plainTopic('customers'),
      '--group',
      group,
      '--config',
      rules,
      '--target',
      serviceEnv('CDC_CACHE_VALKEY_URL'),
      '--pg',
      serviceEnv('CDC_CACHE_PG_URL'),
      '--sample',
      '1',
      '--windows',
      '500ms,2s',
      '--rate',
      '5000',
      '--duration',
      '15s',
      '--json',
    ];
    const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      });
    });
    // Let the verifier join its group (it starts from the newest offset), then write.
    await new Promise((r) => setTimeout(r, 6000));
    sql(`INSERT INTO customers (id, email, name) VALUES (${id}, 'k${id}@x.io', 'one');
         UPDATE customers SET name = 'two' WHERE id = ${id};`);
    const key = `${prefix}c:${id}`;
    const stale = `{"id":${id},"email":"k${id}@x.io","name":"one","tier":"free"}`;
    await valkey.set(key, stale); // the first version: what an unfenced late replay would leave
    const r = await done;
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as {
      mode: string;
      staleKeys: number;
      changes: { sampled: number };
      inconsistencies: { key: string; expected: string | null; actual: string }[];
    };
    expect(report.mode).toBe('windows');
    expect(report.changes.sampled).toBeGreaterThanOrEqual(2);
    expect(report.inconsistencies.filter((i) => i.key === key)).toEqual([
      expect.objectContaining({
        key,
        actual: stale,
        expected: `{"id":${id},"email":"k${id}@x.io","name":"two","tier":"free"}`,
      }),
    ]);
    // Only our planted key is stale: other rows' keys under this prefix are absent (consistent).
    expect(new Set(report.inconsistencies.map((i) => i.key))).toEqual(new Set([key]));
    // It never committed an offset for its group.
    const committed = await committedOffsets(testKafka(), group, plainTopic('customers'));
    expect([...committed.values()].every((o) => o < 0n)).toBe(true);
  }, 60_000);
});
