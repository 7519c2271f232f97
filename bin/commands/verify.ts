/**
 * `cdc-cache verify` — the consistency verifier (core/verify): samples changes from change logs or a
 * live Debezium topic, reads the cache (read-only) and the source of truth (PostgreSQL or DynamoDB)
 * at fixed delays after each change's commit, and reports "nines within N seconds" and the
 * inconsistencies of the last window. Exit codes: 0 no inconsistent key at the last window (or in
 * the full check), 1 some (or the work failed), 2 usage error.
 *
 * `pg`, `@aws-sdk/client-dynamodb` and the Kafka client are imported only when the options need them, with
 * an error naming the package to install when one is missing.
 */
import { readChangeLog } from '../../core/changelog/read.ts';
import type { DecodeOptions } from '../../core/decode/document.ts';
import type { ChangeEvent } from '../../core/event/change-event.ts';
import { loadOptional } from '../../core/optional-dependency.ts';
import { PlanStats } from '../../core/plan/plan-stats.ts';
import { planBatch } from '../../core/plan/planner.ts';
import { type Finding, ruleFindings } from '../../core/plan/rule-report.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import { loadConfig } from '../../core/rules/load.ts';
import { checkReplicaIdentity, type SqlQuery } from '../../core/rules/replica-identity.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import {
  createVerifier,
  dynamodbTruth,
  type ExpectSpec,
  formatReport,
  parseDuration,
  parseWindows,
  postgresTruth,
  reportToJson,
  type TruthSource,
  type VerifyReport,
  verifyFull,
} from '../../core/verify/index.ts';
import { isSampled, rowIdentity } from '../../core/verify/sampling.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';
import { openTarget } from '../targets.ts';
import { sourceHintOption } from './decode.ts';
import { followDynamoDbStream } from './verify/dynamodb-stream-follower.ts';
import { followKafka } from './verify/kafka-follower.ts';

/** The command line of `verify`: the parser and `verify --help` both read it. */
export const VERIFY_COMMAND = {
  usage: `cdc-cache verify CHANGELOG... --config FILE --target URL (--pg URL | --dynamodb-endpoint URL) [options]
cdc-cache verify --kafka BROKERS --topic TOPIC... --config FILE --target URL (--pg URL | …) [options]
cdc-cache verify --dynamodb-stream TABLE --dynamodb-endpoint URL --config FILE --target URL [options]
  Checks that the cache follows the database: samples changes (by row-key hash, so every change of
  a sampled row is followed), reads the cache (GET only) and the source of truth, and reports the
  share of changes the cache reflected within each window ("nines within N seconds") and every
  inconsistent key of the last window. Exit code 0: none inconsistent; 1: some (or a failure).
  Change logs are checked once, after reading them (full mode: every row they touch, newest change);
  a live topic is sampled for --duration, then each change is checked at every window.`,
  options: {
    config: {
      type: 'string',
      short: 'c',
      arg: 'FILE',
      help: 'the rules the pipeline uses (cdc-cache.config.json / .ts)',
    },
    target: {
      type: 'string',
      arg: 'URL',
      help: 'the cache: engine://host:port, valkey://…, valkeys://… (read-only)',
    },
    pg: {
      type: 'string',
      arg: 'URL',
      help: 'PostgreSQL source of truth (needs the npm package "pg"); also checks each\nrule table\'s REPLICA IDENTITY and warns when old images cannot serve the rule',
    },
    strict: {
      type: 'boolean',
      default: false,
      help: 'refuse to run (exit 1) when that check finds something; also exit 1 when\na rule matched nothing, a table matched no rule, a refresh fell back to\ninvalidate or a partial image took a fallback (as replay --strict; live: a\nrule matched nothing only with evidence, e.g. a near-miss table seen)',
    },
    dynamodb: {
      type: 'boolean',
      default: false,
      help: 'DynamoDB source of truth at the default AWS endpoint (needs "@aws-sdk/client-dynamodb")',
    },
    'dynamodb-endpoint': {
      type: 'string',
      arg: 'URL',
      help: 'DynamoDB source of truth at this endpoint (DynamoDB Local)',
    },
    region: { type: 'string', arg: 'REGION', help: 'DynamoDB: AWS region' },
    kafka: {
      type: 'string',
      arg: 'BROKERS',
      help: 'host:port[,host:port] of a live Debezium topic (needs "@platformatic/kafka", or "kafkajs" with\nCDC_CACHE_KAFKA_CLIENT=kafkajs); the verifier reads with its own group, from the newest offset, and never commits',
    },
    'dynamodb-stream': {
      type: 'string',
      arg: 'TABLE',
      help: 'follow the table\'s DynamoDB stream live (from its newest records; needs\n"@aws-sdk/client-dynamodb-streams"; endpoint/region as for --dynamodb-endpoint)',
    },
    topic: { type: 'string', multiple: true, arg: 'TOPIC', help: '--kafka: a topic to follow' },
    group: { type: 'string', arg: 'ID', help: '--kafka: the group (default cdc-cache-verify-PID-TIME)' },
    duration: {
      type: 'string',
      default: '60s',
      arg: 'D',
      help: 'how long to sample a live source (Ctrl-C stops early)',
    },
    sample: {
      type: 'string',
      arg: 'F',
      help: 'fraction of rows followed, 0..1 (default 0.01 live, 1 for change logs)',
    },
    windows: { type: 'string', default: '1s,5s,30s', arg: 'LIST', help: 'check delays after each commit' },
    rate: {
      type: 'string',
      default: '100',
      arg: 'N',
      help: 'most reads per second, cache and database together',
    },
    'max-pending': {
      type: 'string',
      default: '100000',
      arg: 'N',
      help: 'most changes awaiting checks; the oldest is dropped beyond it',
    },
    'max-inconsistencies': {
      type: 'string',
      default: '100',
      arg: 'N',
      help: 'most inconsistent keys listed in the report',
    },
    expect: {
      type: 'string',
      arg: 'FIELDS|*',
      help: "what the app's loader stores under invalidate keys: these fields of the row\n(comma-separated, in order) or the whole row (*); default: not checked",
    },
    full: {
      type: 'boolean',
      default: false,
      help: 'live source: after --duration, check every sampled row once (like change logs)',
    },
    json: { type: 'boolean', default: false, help: 'print the report as one JSON object' },
    source: { type: 'string', default: 'auto', arg: 'HINT', help: 'decoding hint, as for decode' },
    table: { type: 'string', arg: 'NAME', help: 'decoding hint, as for decode' },
  },
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `verify` (generated from {@link VERIFY_COMMAND}). */
export const VERIFY_USAGE = helpText(VERIFY_COMMAND);

/** Runs `verify`; returns the exit code. */
export async function runVerify(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(argv, VERIFY_COMMAND);
  if (help) {
    await writeOut(VERIFY_USAGE);
    return 0;
  }
  const stream = values['dynamodb-stream'];
  if (values.kafka !== undefined && stream !== undefined)
    throw new UsageError('give one live source: --kafka BROKERS or --dynamodb-stream TABLE');
  const live = values.kafka !== undefined || stream !== undefined;
  if (live === positionals.length > 0)
    throw new UsageError(
      'verify needs change log files, or a live source: --kafka BROKERS --topic TOPIC, or --dynamodb-stream TABLE (not both)',
    );
  if (values.kafka !== undefined && (values.topic ?? []).length === 0)
    throw new UsageError('--kafka needs at least one --topic');
  if (values.config === undefined)
    throw new UsageError('verify needs --config FILE (the rules the pipeline uses)');
  if (values.target === undefined) throw new UsageError('verify needs --target URL (the cache to check)');
  const dynamo = values.dynamodb || values['dynamodb-endpoint'] !== undefined;
  if ((values.pg !== undefined) === dynamo)
    throw new UsageError(
      'verify needs one source of truth: --pg URL or --dynamodb-endpoint URL (--dynamodb)',
    );
  const source = sourceHintOption(values.source);
  const num = (name: string, text: string, ok: (n: number) => boolean, what: string): number => {
    const n = Number(text);
    if (!ok(n)) throw new UsageError(`--${name} must be ${what}, got "${text}"`);
    return n;
  };
  const sample = num(
    'sample',
    values.sample ?? (live ? '0.01' : '1'),
    (n) => n >= 0 && n <= 1,
    'a fraction in [0, 1]',
  );
  const rate = num(
    'rate',
    values.rate,
    (n) => n > 0 && Number.isFinite(n),
    'a positive number of reads per second',
  );
  const maxPending = num(
    'max-pending',
    values['max-pending'],
    (n) => Number.isInteger(n) && n > 0,
    'a positive integer',
  );
  const maxInconsistencies = num(
    'max-inconsistencies',
    values['max-inconsistencies'],
    (n) => Number.isInteger(n) && n >= 0,
    'an integer >= 0',
  );
  let windowsMs: number[];
  let durationMs: number;
  try {
    windowsMs = parseWindows(values.windows);
    durationMs = parseDuration(values.duration);
  } catch (error) {
    throw new UsageError(`--windows/--duration: ${(error as Error).message}`);
  }
  const expect: ExpectSpec | undefined =
    values.expect === undefined
      ? undefined
      : values.expect === '*'
        ? { row: true }
        : {
            fields: values.expect
              .split(',')
              .map((f) => f.trim())
              .filter((f) => f !== ''),
          };
  if (expect !== undefined && 'fields' in expect && expect.fields.length === 0)
    throw new UsageError('--expect needs field names (id,name,…) or * for the whole row');
  const decode: DecodeOptions = { source };
  if (values.table !== undefined) decode.table = values.table;

  const config = await loadConfig(values.config);
  for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
  const pgTruth = values.pg !== undefined ? await openPostgres(values.pg) : undefined;
  const truth = pgTruth ?? (await openDynamo(values['dynamodb-endpoint'], values.region));
  if (
    pgTruth !== undefined &&
    (await reportReplicaIdentity(config, pgTruth.query, values.strict)) &&
    values.strict
  ) {
    await truth.close();
    return 1;
  }
  let target: CacheTarget | undefined;
  try {
    target = await openTarget(values.target);
    let report: VerifyReport;
    let strictFailed = false;
    if (!live) {
      const poison: PoisonTally = { count: 0, positions: [] };
      const events = await readEvents(positionals, decode, poison);
      // What each rule did with these changes, as replay reports it (--strict: an error).
      const stats = new PlanStats(config.rules.length);
      planBatch(config, events, stats);
      strictFailed = reportFindings(ruleFindings(config, stats), values.strict);
      report = await verifyFull(events, {
        config,
        target,
        truth,
        expect,
        ratePerSec: rate,
        maxInconsistencies,
      });
      if (poison.count > 0) report.poison = poison;
    } else {
      const verifier = createVerifier({
        config,
        target,
        truth,
        expect,
        sample,
        windowsMs,
        ratePerSec: rate,
        maxPending,
        maxInconsistencies,
      });
      const seen: ChangeEvent[] = [];
      // What the rules did with every change followed (sampled or not), as the consumers judge a
      // live stream: a rule whose table was only quiet is no finding.
      const stats = new PlanStats(config.rules.length);
      const observe = (e: ChangeEvent) => {
        verifier.observe(e);
        planBatch(config, [e], stats);
        if (values.full) seen.push(e);
      };
      if (stream !== undefined)
        await followDynamoDbStream(
          stream,
          values['dynamodb-endpoint'],
          values.region,
          durationMs,
          observe,
          () => verifier.runDue(),
        );
      else
        await followKafka(values.kafka!, values.topic!, values.group, durationMs, decode, observe, () =>
          verifier.runDue(),
        );
      if (values.full) {
        const followed = seen.filter((e) => verifierSamples(e, sample));
        report = await verifyFull(followed, {
          config,
          target,
          truth,
          expect,
          ratePerSec: rate,
          maxInconsistencies,
        });
      } else {
        await verifier.drain(Date.now() + windowsMs.at(-1)! + 5000);
        report = verifier.report();
      }
      strictFailed = reportFindings(ruleFindings(config, stats, { unused: 'evident' }), values.strict);
    }
    await writeOut(values.json ? `${reportToJson(report)}\n` : formatReport(report));
    return report.staleKeys > 0 || strictFailed ? 1 : 0;
  } finally {
    await target?.close();
    await truth.close();
  }
}

/** Prints each finding on stderr (`error:` with --strict, else `warning:`); true when --strict fails. */
function reportFindings(findings: readonly Finding[], strict: boolean): boolean {
  for (const f of findings) process.stderr.write(`${strict ? 'error' : 'warning'}: ${f.message}\n`);
  return strict && findings.length > 0;
}

function verifierSamples(e: ChangeEvent, fraction: number): boolean {
  return fraction >= 1 || (e.key !== null && isSampledEvent(e, fraction));
}

function isSampledEvent(e: ChangeEvent, fraction: number): boolean {
  const id = rowIdentity(e);
  return id !== null && isSampled(id, fraction);
}

/** Poison records met while reading: counted, the first few positions kept for the report. */
interface PoisonTally {
  count: number;
  positions: string[];
}

function notePoison(tally: PoisonTally, position: string, error: unknown): void {
  tally.count++;
  if (tally.positions.length < 10) tally.positions.push(position);
  const e = error as { code?: string; message?: string };
  process.stderr.write(`poison: ${position}: [${e.code ?? 'E_DECODE'}] ${e.message}\n`);
}

/**
 * Reads change logs into events. A line or record that cannot be decoded (what the pipeline
 * dead-letters; a topic captured with its poison records) is counted, named on stderr and skipped.
 */
async function readEvents(
  files: string[],
  decode: DecodeOptions,
  poison: PoisonTally,
): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for (const file of files) {
    for await (const line of readChangeLog(file, decode)) {
      if (line.error !== undefined) {
        notePoison(poison, `${line.file}:${line.line}`, line.error);
        continue;
      }
      for (const r of line.records) {
        let e: ChangeEvent | null;
        try {
          e = r.decode();
        } catch (error) {
          notePoison(poison, r.label, error);
          continue;
        }
        if (e !== null) out.push(e);
      }
    }
  }
  return out;
}

/** Loads a flag's optional package (`name`, kept for the reader), or fails naming it. */
async function lazy<T>(_name: string, load: () => Promise<T>, flag: string): Promise<T> {
  return loadOptional(`cdc-cache verify ${flag}`, load);
}

/** The rules' replica-identity findings as `warning:` lines (`error:` with --strict); true if any. */
async function reportReplicaIdentity(
  config: CompiledConfig,
  query: SqlQuery,
  strict: boolean,
): Promise<boolean> {
  const findings = await checkReplicaIdentity(config, query);
  for (const f of findings) process.stderr.write(`${strict ? 'error' : 'warning'}: ${f.message}\n`);
  return findings.length > 0;
}

async function openPostgres(url: string): Promise<TruthSource & { query: SqlQuery }> {
  const pg = await lazy('pg', () => import('pg'), '--pg');
  const pool = new pg.default.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new Error(
      `--pg ${url.replace(/\/\/[^@/]*@/, '//***@')}: cannot connect: ${(error as Error).message}`,
    );
  }
  const truth = postgresTruth(
    async (text, params) =>
      (await pool.query({ text, values: [...params], rowMode: 'array' })).rows.map((r: unknown[]) => r[0]),
    () => pool.end(),
  );
  return Object.assign(truth, {
    query: async (text: string, params: readonly unknown[]) => (await pool.query(text, [...params])).rows,
  });
}

async function openDynamo(endpoint: string | undefined, region: string | undefined): Promise<TruthSource> {
  const flag = endpoint === undefined ? '--dynamodb' : '--dynamodb-endpoint';
  const ddb = await lazy('@aws-sdk/client-dynamodb', () => import('@aws-sdk/client-dynamodb'), flag);
  const client = new ddb.DynamoDBClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    region: region ?? process.env.AWS_REGION ?? 'us-east-1',
  });
  return dynamodbTruth(
    async (table, key) =>
      (
        await client.send(
          new ddb.GetItemCommand({ TableName: table, Key: key as never, ConsistentRead: true }),
        )
      ).Item as Record<string, unknown> | undefined,
    async () => client.destroy(),
  );
}
