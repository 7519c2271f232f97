/**
 * `cdc-cache replay CHANGELOG... --config FILE [--target engine|valkey://…|valkeys://…] [--dump] [--dry-run]`
 *
 * Applies change logs through the rules. Prints a summary (stderr when stdout carries data);
 * `--dump` prints the state of the keys the run touched as one JSON object (`--dump-all`: the
 * target's whole keyspace); `--dry-run` prints the planned ops,
 * one JSON object per line, and touches no target. Dead letters are printed to stderr with their
 * position and reason; they make the exit code 1 unless `--allow-dead-letters`. After the summary,
 * one line per rule finding (a rule that matched nothing, a table no rule names, refresh fallbacks,
 * partial images): warnings, or errors with exit 1 under `--strict`.
 */
import type { DecodeOptions } from '../../core/decode/document.ts';
import type { DeadLetter, ReplayOptions, ReplaySummary } from '../../core/pipeline/replay.ts';
import { replayChangeLogs } from '../../core/pipeline/replay.ts';
import { ruleFindings } from '../../core/plan/rule-report.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import { loadConfig } from '../../core/rules/load.ts';
import type { CacheOp } from '../../core/targets/cache-op.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';
import { openTarget, redactTarget } from '../targets.ts';
import { sourceHintOption } from './decode.ts';

/** The command line of `replay`: the parser and `replay --help` both read it. */
export const REPLAY_COMMAND = {
  usage: `cdc-cache replay CHANGELOG... --config FILE [--target engine|engine://…|valkey://…|valkeys://…] [options]
cdc-cache replay CHANGELOG... --target lambda:NAME [--endpoint URL] [--batch-size N] [--table NAME]
  Applies JSONL change logs through the rules into a cache target and prints a summary.
  With --target lambda:NAME, sends them as Lambda events (DynamoDB Streams or MSK) to the function
  NAME (deployed, or local with --endpoint http://127.0.0.1:9001 from "cdc-cache lambda serve").`,
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', help: 'the rules (cdc-cache.config.json or .ts)' },
    target: {
      type: 'string',
      arg: 'SPEC',
      help: 'engine (default), engine://host:port, valkey[s]://…, or lambda:NAME',
    },
    dump: {
      type: 'boolean',
      help: 'print the keys this run touched, as one JSON object { "key": "value", … }',
    },
    'dump-all': {
      type: 'boolean',
      help: "print every key of the target (on a shared server: everyone's keys)",
    },
    'dry-run': { type: 'boolean', help: 'print the planned cache operations (one JSON per line); no target' },
    source: {
      type: 'string',
      default: 'auto',
      arg: 'auto|dynamodb|debezium|lambda-kafka',
      help: 'the record format',
    },
    table: { type: 'string', arg: 'NAME', help: 'the table, when the records do not name it' },
    'batch-size': { type: 'string', arg: 'N', help: 'records per batch (default 1000)' },
    'allow-dead-letters': { type: 'boolean', help: 'exit 0 even when records were dead-lettered' },
    strict: {
      type: 'boolean',
      help: 'exit 1 when a rule matched nothing, a table matched no rule, a refresh fell back to invalidate, a partial image was handled by a fallback, or a when field was in no event (one line each)',
    },
    endpoint: { type: 'string', arg: 'URL', help: 'with --target lambda:NAME: the Lambda endpoint' },
  },
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `replay` (generated from {@link REPLAY_COMMAND}). */
export const REPLAY_USAGE = helpText(REPLAY_COMMAND);

/** Retries of `replay`: about a second of backoff, then the target failure is reported. */
export const REPLAY_RETRY = { attempts: 5, baseDelayMs: 50, maxDelayMs: 1000 } as const;

/** One planned op as printed by --dry-run. */
export function opToJson(op: CacheOp): string {
  if (op.kind === 'refresh')
    return JSON.stringify({
      op: 'refresh',
      key: op.key,
      value: op.value,
      ttlMs: op.ttlMs,
      version: op.version,
    });
  if (op.kind === 'invalidate') return JSON.stringify({ op: 'invalidate', key: op.key, version: op.version });
  if (op.kind === 'softInvalidate')
    return JSON.stringify({ op: 'softInvalidate', key: op.key, version: op.version });
  if (op.kind === 'invalidateTag')
    return JSON.stringify({
      op: 'invalidateTag',
      tag: op.tag,
      version: op.version,
      ...(op.soft === true ? { soft: true } : {}),
    });
  return JSON.stringify({ op: 'invalidatePrefix', prefix: op.prefix, version: op.version });
}

function formatSummary(s: ReplaySummary, target: string): string {
  return (
    `replayed ${s.records} records (${s.lines} lines) into ${target}: ${s.events} change events, ${s.skipped} not row changes, ` +
    `${s.unmatched} unmatched; ops: ${s.ops.refresh} refresh, ${s.ops.invalidate} invalidate, ${s.ops.invalidatePrefix} prefix${s.ops.softInvalidate > 0 ? `, ${s.ops.softInvalidate} soft-invalidate` : ''}${s.ops.invalidateTag > 0 ? `, ${s.ops.invalidateTag} tag` : ''}; ` +
    `${s.applied} applied, ${s.fenced} fenced, ${s.failed} failed; ${s.deadLetters} dead letters\n`
  );
}

/** Events each rule matched, one line: `rules: rules[0] (users) 12 events, rules[1] (order) 0 events`. */
function formatRuleCounts(s: ReplaySummary, config: CompiledConfig): string {
  const parts = config.rules.map((r) => `${r.name} ${s.rules.matched[r.index]} events`);
  return `rules: ${parts.join(', ')}\n`;
}

/** The current values of `keys` on the target (absent keys left out), read 500 at a time. */
async function dumpKeys(target: CacheTarget, keys: ReadonlySet<string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const list = [...keys];
  for (let i = 0; i < list.length; i += 500) {
    const slice = list.slice(i, i + 500);
    const values = await Promise.all(slice.map((k) => target.get(k)));
    slice.forEach((k, j) => {
      const v = values[j];
      if (v !== null && v !== undefined) out[k] = v;
    });
  }
  return out;
}

/** Runs `replay`; returns the exit code. */
export async function runReplay(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(argv, REPLAY_COMMAND);
  if (help) {
    await writeOut(REPLAY_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('replay needs at least one CHANGELOG file');
  if (values.target?.startsWith('lambda:')) {
    // The function applies its own rules to its own target: these flags would be silently ignored.
    const notForLambda = (
      ['config', 'dump', 'dump-all', 'dry-run', 'allow-dead-letters', 'strict'] as const
    ).filter((f) => values[f] !== undefined && values[f] !== false);
    if (notForLambda.length > 0)
      throw new UsageError(
        `--${notForLambda[0]} does not apply to --target ${values.target}: the function uses its own rules (CDC_CACHE_RULES / CDC_CACHE_CONFIG of "cdc-cache lambda serve" or the deployment) and its own target`,
      );
    return (await import('./lambda.ts')).runReplayToLambda(positionals, values);
  }
  if (values.endpoint !== undefined) throw new UsageError('--endpoint goes with --target lambda:NAME');
  if (values.config === undefined)
    throw new UsageError('replay needs --config FILE (a cdc-cache.config.json or .ts)');
  if (values['dry-run'] && (values.dump || values['dump-all'] || values.target !== undefined)) {
    throw new UsageError('--dry-run prints planned ops and touches no target: drop --dump / --target');
  }
  if (values.dump && values['dump-all']) throw new UsageError('give --dump or --dump-all, not both');
  const batchSize = values['batch-size'] === undefined ? 1000 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new UsageError('--batch-size must be a positive integer');
  const decode: DecodeOptions = { source: sourceHintOption(values.source) };
  const config = await loadConfig(values.config);
  for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
  if (values.table !== undefined) decode.table = values.table;
  const targetSpec = values.target ?? config.target;
  let target: CacheTarget | undefined;
  if (!values['dry-run']) target = await openTarget(targetSpec);
  const deadLetters: DeadLetter[] = [];
  let planned = '';
  try {
    const options: ReplayOptions = {
      config,
      decode,
      batchSize,
      // A CLI run reports an unreachable target within a few seconds rather than waiting it out.
      retry: REPLAY_RETRY,
      onDeadLetter: (d) => {
        deadLetters.push(d);
        process.stderr.write(`dead letter: ${d.position}: [${d.code}] ${d.reason}\n`);
      },
    };
    if (target) options.target = target;
    // --dump shows the keys this run touched (on a shared server the keyspace holds far more).
    const touched = new Set<string>();
    if (values['dry-run']) {
      options.onPlan = (ops) => {
        for (const op of ops) planned += `${opToJson(op)}\n`;
      };
    } else if (values.dump) {
      options.onPlan = (ops) => {
        for (const op of ops) if ('key' in op) touched.add(op.key);
      };
    }
    const summary = await replayChangeLogs(positionals, options);
    const dataOnStdout = values['dry-run'] || values.dump || values['dump-all'];
    if (values['dry-run']) await writeOut(planned);
    if ((values.dump || values['dump-all']) && target) {
      const state = values['dump-all'] ? await target.dump() : await dumpKeys(target, touched);
      const sorted: Record<string, string> = {};
      for (const k of Object.keys(state).sort()) sorted[k] = state[k]!;
      await writeOut(`${JSON.stringify(sorted)}\n`);
    }
    const line = formatSummary(summary, values['dry-run'] ? 'dry run' : redactTarget(targetSpec));
    const rulesLine = formatRuleCounts(summary, config);
    if (dataOnStdout) process.stderr.write(line + rulesLine);
    else await writeOut(line + rulesLine);
    const findings = ruleFindings(config, summary.rules);
    for (const f of findings) process.stderr.write(`${values.strict ? 'error' : 'warning'}: ${f.message}\n`);
    if (summary.failed > 0) return 1;
    if (values.strict && findings.length > 0) return 1;
    return deadLetters.length > 0 && !values['allow-dead-letters'] ? 1 : 0;
  } finally {
    await target?.close();
  }
}
