/**
 * `cdc-cache dead-letters list|show|redrive DEST …`: what went to a dead-letter destination, and the
 * way back once the rule (or the data) is fixed. DEST is spelled as the writers spell it: the Kafka
 * dead-letter topic (`kafka://HOST:PORT/TOPIC`), an SQS queue URL (the Lambda handlers' poison queue
 * or a Lambda on-failure destination) or the file sink's path. See consumers/dead-letters.
 *
 * `list` and `show` only read. `redrive` runs the entries through the pipeline with the current
 * rules into the target, prints one line per entry (applied / fenced / failed again, with the
 * reason) and a summary, and removes (SQS), commits (Kafka) or rewrites away (file) only the
 * entries the target confirmed. `--dry-run` prints the planned ops and touches nothing.
 *
 * Exit codes: 0 when every entry was done (or, for list/show, was read); 1 when an entry failed
 * again or the target stopped the run; 2 on a usage error.
 */
import type { CacheOp } from '../../core/targets/cache-op.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';
import { opToJson } from './replay.ts';

/** The command line of `dead-letters`: the parser and `dead-letters --help` both read it. */
export const DEAD_LETTERS_COMMAND = {
  usage: `cdc-cache dead-letters list DEST [options]
cdc-cache dead-letters show DEST ID... [options]
cdc-cache dead-letters redrive DEST --config FILE [--target URL] [--dry-run] [options]
  Lists, shows and redrives dead letters. DEST: kafka://HOST:PORT/TOPIC (the consumers' dead-letter
  topic), an SQS queue URL (the Lambda handlers' poison queue or an on-failure destination), or the
  dead-letter file's path.`,
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', help: 'redrive: the rules (as fixed)' },
    target: { type: 'string', arg: 'URL', help: "redrive: the cache target (default: the config's target)" },
    'dry-run': { type: 'boolean', help: 'redrive: print the planned ops per entry; touch nothing' },
    max: { type: 'string', arg: 'N', help: 'read at most N entries (default 1000)' },
    table: { type: 'string', arg: 'NAME', help: 'table for DynamoDB records that name none' },
    group: {
      type: 'string',
      arg: 'GROUP',
      help: 'kafka: the redrive group (default cdc-cache-redrive.TOPIC)',
    },
    'from-beginning': {
      type: 'boolean',
      help: "kafka: read from the topic's start, not the redrive group's position",
    },
    endpoint: { type: 'string', arg: 'URL', help: "sqs: endpoint (default: the queue URL's, unless AWS)" },
    region: { type: 'string', arg: 'REGION', help: 'sqs and DynamoDB Streams: AWS region' },
    'visibility-timeout': {
      type: 'string',
      arg: 'S',
      help: 'sqs: seconds messages stay hidden during a redrive (default 300)',
    },
    'dynamodb-endpoint': {
      type: 'string',
      arg: 'URL',
      help: 'on-failure records: DynamoDB Streams endpoint (DynamoDB Local)',
    },
    'retry-attempts': {
      type: 'string',
      arg: 'N',
      help: 'redrive: attempts per op while the target fails (default 8)',
    },
    'remove-unmatched': {
      type: 'boolean',
      help: 'redrive: remove entries the current rules make no op for (default: kept, E_NO_OPS)',
    },
    json: { type: 'boolean', help: 'list/redrive: one JSON object per entry instead of text' },
  },
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `dead-letters` (generated from {@link DEAD_LETTERS_COMMAND}). */
export const DEAD_LETTERS_USAGE = helpText(DEAD_LETTERS_COMMAND);

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

const line = (s: string) => s.replace(/\s+/g, ' ').slice(0, 300);

/** Runs `dead-letters`; returns the exit code. */
export async function runDeadLetters(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(argv, DEAD_LETTERS_COMMAND);
  if (help) {
    await writeOut(DEAD_LETTERS_USAGE);
    return 0;
  }
  const [action, dest, ...ids] = positionals;
  if (action !== 'list' && action !== 'show' && action !== 'redrive')
    throw new UsageError('dead-letters needs an action: list, show or redrive');
  if (dest === undefined)
    throw new UsageError(`dead-letters ${action} needs a destination DEST (see --help)`);
  if (action === 'show' && ids.length === 0)
    throw new UsageError('dead-letters show needs the ID of an entry (from list)');
  if (action !== 'show' && ids.length > 0) throw new UsageError(`unexpected argument "${ids[0]}"`);
  if (action === 'redrive' && values.config === undefined)
    throw new UsageError('dead-letters redrive needs --config FILE (the rules as fixed)');
  if (values['dry-run'] && values.target !== undefined)
    throw new UsageError('--dry-run touches no target: drop --target');
  const max = count(values.max, '--max', 1000);
  const retryAttempts = count(values['retry-attempts'], '--retry-attempts', 8);
  const visibility = count(values['visibility-timeout'], '--visibility-timeout', 300);

  const { openDeadLetterStore } = await import('../../consumers/dead-letters/open-store.ts');
  const store = await openDeadLetterStore(dest, {
    ...(values.group === undefined ? {} : { group: values.group }),
    ...(values['from-beginning'] ? { fromBeginning: true } : {}),
    ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
    ...(values.region === undefined ? {} : { region: values.region }),
    visibilityTimeoutSeconds: visibility,
  });
  try {
    if (action !== 'redrive') {
      const entries = await store.read({ max }).catch(async (error) => {
        await store.settle(new Set()).catch(() => 0);
        throw error;
      });
      await store.settle(new Set()); // hand everything back (SQS: visible again)
      if (action === 'list') {
        let out = '';
        for (const e of entries) {
          out += values.json
            ? `${JSON.stringify({ id: e.id, position: e.position, code: e.code, reason: e.reason, failedAt: e.failedAt, kind: e.payload.kind })}\n`
            : `${e.id}\t${e.position}\t[${e.code}] ${line(e.reason)}\n`;
        }
        await writeOut(out);
        process.stderr.write(
          `${entries.length} dead letters in ${store.name}${entries.length >= max ? ` (stopped at --max ${max})` : ''}\n`,
        );
        return 0;
      }
      const wanted = new Set(ids);
      const found = entries.filter((e) => wanted.has(e.id));
      for (const e of found)
        await writeOut(
          `${JSON.stringify({ id: e.id, position: e.position, code: e.code, reason: e.reason, failedAt: e.failedAt, stored: e.stored }, null, 2)}\n`,
        );
      const missing = ids.filter((id) => !found.some((e) => e.id === id));
      if (missing.length > 0) {
        process.stderr.write(
          `cdc-cache dead-letters: ${missing.join(', ')}: no such entry in ${store.name} (see "dead-letters list")\n`,
        );
        return 1;
      }
      return 0;
    }
    return await redriveCommand(store, values, { max, retryAttempts });
  } finally {
    await store.close();
  }
}

async function redriveCommand(
  store: import('../../consumers/dead-letters/dead-letter-store.ts').DeadLetterStore,
  values: {
    config?: string;
    target?: string;
    'dry-run'?: boolean;
    table?: string;
    region?: string;
    'dynamodb-endpoint'?: string;
    'remove-unmatched'?: boolean;
    json?: boolean;
  },
  n: { max: number; retryAttempts: number },
): Promise<number> {
  const { loadConfig } = await import('../../core/rules/load.ts');
  const { redrive } = await import('../../consumers/dead-letters/redrive.ts');
  const config = await loadConfig(values.config!);
  for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
  const dryRun = values['dry-run'] === true;
  const targetSpec = values.target ?? config.target;
  const { openTarget, redactTarget } = await import('../targets.ts');
  const target = dryRun ? undefined : await openTarget(targetSpec);
  let streamsClient:
    | (import('../../consumers/dynamodb/streams-port.ts').StreamsPort & { close(): void })
    | undefined;
  const streams = async () => {
    if (streamsClient === undefined) {
      const { loadOptional } = await import('../../core/optional-dependency.ts');
      const { createAwsStreamsClient } = await loadOptional(
        'dead-letters redrive (DynamoDB on-failure records)',
        () => import('../../consumers/dynamodb/aws-streams-client.ts'),
      );
      const endpoint = values['dynamodb-endpoint'];
      streamsClient = createAwsStreamsClient({
        region: values.region ?? process.env.AWS_REGION ?? 'us-east-1',
        ...(endpoint === undefined ? {} : { endpoint }),
      });
    }
    return streamsClient;
  };
  try {
    const entries = await store.read({ max: n.max, forRedrive: !dryRun }).catch(async (error) => {
      await store.settle(new Set()).catch(() => 0); // hand back whatever was read (SQS: visible again)
      throw error;
    });
    let report: Awaited<ReturnType<typeof redrive>>;
    try {
      report = await redrive(entries, {
        config,
        dryRun,
        ...(target === undefined ? {} : { target }),
        retry: {
          attempts: n.retryAttempts,
          onRetry: (attempt, error) =>
            process.stderr.write(`target failed (attempt ${attempt}), retrying: ${line(error.message)}\n`),
        },
        resolve: { streams, ...(values.table === undefined ? {} : { table: values.table }) },
        ...(values['remove-unmatched'] ? { removeWithoutOps: true } : {}),
      });
    } catch (error) {
      await store.settle(new Set()); // nothing was confirmed: hand everything back
      throw error;
    }
    // Only what the target confirmed leaves the destination; a dry run removes nothing.
    const removed = await store.settle(dryRun ? new Set() : report.done);
    let out = '';
    for (const e of report.entries) {
      if (values.json) {
        out += `${JSON.stringify({ ...e, ops: e.ops.map((op: CacheOp) => JSON.parse(opToJson(op))) })}\n`;
        continue;
      }
      const why = e.reason === undefined ? '' : `: [${e.code}] ${line(e.reason)}`;
      if (e.outcome === 'planned') {
        out += `would apply ${e.id} ${e.position}: ${e.ops.length} ops\n`;
        for (const op of e.ops) out += `  ${opToJson(op)}\n`;
      } else if (e.outcome === 'fenced') {
        out += `fenced ${e.id} ${e.position}: a newer version is already in the cache\n`;
      } else if (e.outcome === 'failed') {
        out += `failed ${e.id} ${e.position}${why}\n`;
      } else if (e.outcome === 'not-tried') {
        out += `kept ${e.id} ${e.position}${why || ': not tried (the target stopped the run)'}\n`;
      } else {
        out += `applied ${e.id} ${e.position} (${e.ops.length} ops)\n`;
      }
    }
    await writeOut(out);
    const c = report.counts;
    const where = dryRun ? 'dry run' : redactTarget(targetSpec);
    process.stderr.write(
      dryRun
        ? `dry run of ${entries.length} dead letters from ${store.name}: ${c.planned} would apply, ${c.failed} would fail again; nothing touched\n`
        : `redrove ${entries.length} dead letters from ${store.name} into ${where}: ${c.applied} applied, ${c.fenced} fenced, ${c.failed} failed again, ${c['not-tried']} kept; ${removed} removed\n`,
    );
    if (report.stoppedBy)
      process.stderr.write(
        `cdc-cache dead-letters: the target is unavailable, stopped: ${line(report.stoppedBy.message)}\n`,
      );
    return c.failed > 0 || c['not-tried'] > 0 ? 1 : 0;
  } finally {
    streamsClient?.close();
    await target?.close();
  }
}
