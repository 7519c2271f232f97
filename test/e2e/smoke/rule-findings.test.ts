/**
 * What the live CLI modes say about the rules, on the real pipeline: PostgreSQL → Debezium →
 * Kafka, read by `cdc-cache consume kafka` (into Valkey) and `cdc-cache verify --kafka` (child
 * processes, as users run them) while rows of all three rule tables change.
 * - Right rules: neither names a rule that matched nothing or a table no rule names.
 * - The orders rule's table mistyped (`public.order`): the consumer logs the table its events came
 *   from with a did-you-mean, and the rule at shutdown; verify prints both as warnings (before this
 *   test, a live verify printed no finding at all and reported a clean run).
 * Both read from the newest offsets, so rows change only once both joined their groups, and then
 * for 15 s; verify is stopped with Ctrl-C (SIGINT) after the writes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { CLI } from '../../support/cli.ts';
import {
  DEBEZIUM_RULES,
  idBase,
  plainTopic,
  sql,
  testKafka,
  topicExists,
  waitFor,
  writeRulesFile,
} from '../../support/consumers.ts';

const TABLES = ['customers', 'orders', 'documents'] as const;
const WRITE_MS = 15_000;
let valkey: Valkey;
const children: ChildProcess[] = [];

beforeAll(async () => {
  requireServices('kafka', 'postgres', 'connect', 'valkey');
  valkey = new Valkey(serviceEnv('CDC_CACHE_VALKEY_URL'));
  // Debezium creates a table's topic with its first change, and `consume kafka` refuses an unknown
  // topic (exit 1, "Unknown topic …"): on a fresh broker the documents topic may not exist yet, so
  // one row of each table changes first and the test waits for the three topics.
  const id = idBase() + 900_000;
  sql(`INSERT INTO customers (id, email, name) VALUES (${id}, 'rf${id}@x.io', 'seed');
       INSERT INTO orders (id, customer_id, status, total_cents) VALUES (${id}, ${id}, 'new', 0);
       INSERT INTO documents (id, title) VALUES (${id}, 'seed');
       DELETE FROM orders WHERE id = ${id}; DELETE FROM documents WHERE id = ${id};
       DELETE FROM customers WHERE id = ${id};`);
  const kafka = testKafka();
  for (const t of TABLES)
    await waitFor(`Debezium created ${plainTopic(t)}`, () => topicExists(kafka, plainTopic(t)), 120_000, 500);
}, 180_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  valkey?.disconnect();
});

interface Run {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function cli(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CDC_CACHE_TARGET: '', CDC_CACHE_CONFIG: '' },
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (out.stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (out.stderr += t));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out, exited };
}

/** The consumer's `rule finding` log lines (JSON logs on stdout and stderr). */
function consumerFindings(run: Run): { kind: string; finding: string }[] {
  return `${run.out.stdout}\n${run.out.stderr}`
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { message: string; kind: string; finding: string })
    .filter((l) => l.message === 'rule finding');
}

/**
 * Runs the consumer and a live verify on the three tables' topics with `rules` while rows change;
 * returns both once the consumer applied the last change and stopped.
 */
async function livePipeline(rules: object, prefix: string, base: number) {
  const file = writeRulesFile({ ...rules, keyPrefix: prefix });
  const brokers = serviceEnv('CDC_CACHE_KAFKA_BROKERS');
  const topics = TABLES.flatMap((t) => ['--topic', plainTopic(t)]);
  const consumer = cli([
    ...['consume', 'kafka', '--brokers', brokers, ...topics, '--group', `rule-findings-${base}`],
    ...['--config', file, '--target', serviceEnv('CDC_CACHE_VALKEY_URL'), '--dead-letter-topic', ''],
    ...['--from-latest', '--no-http', '--no-progress'],
  ]);
  const verifyGroup = `rule-findings-verify-${base}`;
  const verify = cli([
    ...['verify', '--kafka', brokers, ...topics, '--group', verifyGroup, '--config', file],
    ...['--target', serviceEnv('CDC_CACHE_VALKEY_URL'), '--pg', serviceEnv('CDC_CACHE_PG_URL')],
    ...['--sample', '1', '--windows', '500ms,2s', '--rate', '5000', '--duration', '300s', '--json'],
  ]);
  // Both read from the newest offsets: write only once both are in their groups (a CLI start takes
  // 10-20 s on a loaded machine), then stop verify with Ctrl-C (SIGINT) after the writes.
  await waitFor(
    'the consumer joined its group',
    () => /"group joined"/.test(consumer.out.stdout + consumer.out.stderr),
    120_000,
    200,
  ).catch((error: Error) => {
    const tail = (t: string) => t.split('\n').slice(-15).join('\n');
    throw new Error(
      `${error.message}; consumer exit ${consumer.child.exitCode ?? consumer.child.signalCode ?? 'none'}, its stdout:\n${tail(consumer.out.stdout)}\nstderr:\n${tail(consumer.out.stderr)}`,
    );
  });
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await waitFor(
      'verify joined its group',
      async () => {
        const { groups } = await admin.describeGroups([verifyGroup]);
        return groups[0]?.state === 'Stable' && groups[0].members.length > 0;
      },
      120_000,
      250,
    );
  } finally {
    await admin.disconnect();
  }
  // Rows of every rule table change all along (inserts only: no partial old image is involved).
  let last = base;
  const until = Date.now() + WRITE_MS;
  for (let i = 0; Date.now() < until; i++) {
    last = base + i;
    sql(`INSERT INTO customers (id, email, name) VALUES (${last}, 'rf${last}@x.io', 'one');
         UPDATE customers SET name = 'two' WHERE id = ${last};
         INSERT INTO orders (id, customer_id, status, total_cents) VALUES (${last}, ${last}, 'new', ${i});
         INSERT INTO documents (id, title) VALUES (${last}, 't${i}');`);
    await new Promise((r) => setTimeout(r, 500));
  }
  verify.child.kill('SIGINT');
  const verified = await verify.exited;
  await waitFor(
    'the consumer applied the last customer change',
    async () => (await valkey.get(`${prefix}customer:${last}`))?.includes('"name":"two"') === true,
    90_000,
    200,
  );
  consumer.child.kill('SIGTERM');
  expect(await consumer.exited, consumer.out.stderr).toBe(0);
  sql(`DELETE FROM orders WHERE id BETWEEN ${base} AND ${last};
       DELETE FROM documents WHERE id BETWEEN ${base} AND ${last};
       DELETE FROM customers WHERE id BETWEEN ${base} AND ${last};`);
  return { consumer, verify, verified };
}

const followed = (verify: Run) => (JSON.parse(verify.out.stdout) as { changes: { sampled: number } }).changes;
const ruleLines = (stderr: string) =>
  stderr.split('\n').filter((l) => /matched none|matched no rule/.test(l));

describe('rule findings of the live CLI modes (consume kafka, verify --kafka)', () => {
  it('right rules: no rule that matched nothing, no table no rule names', async () => {
    const base = idBase();
    const { consumer, verify, verified } = await livePipeline(DEBEZIUM_RULES, `rf${base}:`, base);
    const kinds = consumerFindings(consumer).filter(
      (f) => f.kind === 'unused-rule' || f.kind === 'unmatched-table',
    );
    expect(kinds).toEqual([]);
    expect(verified, verify.out.stderr).not.toBe(2);
    expect(followed(verify).sampled).toBeGreaterThan(0);
    expect(ruleLines(verify.out.stderr)).toEqual([]);
  }, 180_000);

  it('the orders table mistyped (public.order): both name the rule and the table it missed', async () => {
    const base = idBase();
    const rules = {
      ...DEBEZIUM_RULES,
      rules: DEBEZIUM_RULES.rules.map((r) =>
        r.table === 'public.orders' ? { ...r, table: 'public.order' } : r,
      ),
    };
    const { consumer, verify, verified } = await livePipeline(rules, `rf${base}:`, base);
    const findings = consumerFindings(consumer);
    expect(findings.filter((f) => f.kind === 'unmatched-table').map((f) => f.finding)).toEqual([
      expect.stringMatching(
        /^table public\.orders: \d+ change events? matched no rule \(did you mean rules\[1\] table "public\.order"\?\)$/,
      ),
    ]);
    expect(findings.filter((f) => f.kind === 'unused-rule').map((f) => f.finding)).toEqual([
      expect.stringMatching(
        /^rules\[1\] \(public\.order\) matched none of the \d+ change events \(check its table: did you mean "public\.orders"\?\)$/,
      ),
    ]);
    expect(verified, verify.out.stderr).not.toBe(2);
    expect(ruleLines(verify.out.stderr)).toEqual([
      expect.stringMatching(
        /^warning: rules\[1\] \(public\.order\) matched none of the \d+ change events \(check its table: did you mean "public\.orders"\?\)$/,
      ),
      expect.stringMatching(
        /^warning: table public\.orders: \d+ change events? matched no rule \(did you mean rules\[1\] table "public\.order"\?\)$/,
      ),
    ]);
  }, 180_000);
});
