/**
 * `cdc-cache replay CHANGELOG... --target lambda:NAME [--endpoint URL]`: sends change logs to a
 * function as the event source would, in batches, through `@aws-sdk/client-lambda`.
 *
 * DynamoDB records go out as DynamoDB Streams events (one stream per event, in order); Debezium
 * records as MSK events (`records` keyed by topic-partition). A partial batch response is honoured
 * like an event source mapping does: the reported records (per group, from the lowest reported
 * one on) are sent again, up to `attempts` times; what still fails is counted and makes the exit
 * code 1. A function error retries the whole batch the same way.
 */
import { readChangeLog } from '../../core/changelog/read.ts';
import type { DecodeOptions, SourceRecord } from '../../core/decode/document.ts';
import { ConfigError } from '../../core/errors.ts';
import { FunctionInvocationError, invokeFunction, type LambdaLike } from './lambda-client.ts';
import {
  dynamoDbEvent,
  kafkaEvent,
  type LambdaKafkaRecord,
  lambdaDynamoDbRecord,
  lambdaKafkaRecordOf,
} from './lambda-events.ts';

/** Options of {@link replayToLambda}. */
export interface ReplayToLambdaOptions {
  functionName: string;
  client: LambdaLike;
  decode?: DecodeOptions;
  /** Records per invocation. @default 100 */
  batchSize?: number;
  /** Invocations per batch before giving up on its failed records. @default 3 */
  attempts?: number;
  /** Pause between attempts, ms. @default 200 */
  retryDelayMs?: number;
  /** Progress and errors (one line each). */
  onMessage?: (line: string) => void;
}

/** What a replay into Lambda did. */
export interface ReplayToLambdaSummary {
  lines: number;
  records: number;
  invocations: number;
  /** Records the function acknowledged. */
  acknowledged: number;
  /** Records still reported (or in failed invocations) after every attempt. */
  failed: number;
  functionErrors: number;
  /** Lines that could not be read (bad JSON or shape); never sent. */
  unreadable: number;
}

type Kind = 'dynamodb' | 'kafka';
interface Pending {
  group: string;
  id: string;
  payload: Record<string, unknown> | LambdaKafkaRecord;
}

function idOf(kind: Kind, p: Pending['payload']): string {
  if (kind === 'kafka') {
    const r = p as LambdaKafkaRecord;
    return `${r.topic}-${r.partition}@${r.offset}`;
  }
  const r = p as { dynamodb?: { SequenceNumber?: string }; kinesis?: { sequenceNumber?: string } };
  return r.kinesis?.sequenceNumber ?? r.dynamodb?.SequenceNumber ?? '';
}

function reportedIds(kind: Kind, response: unknown): Set<string> {
  const failures =
    (response as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures ?? [];
  const out = new Set<string>();
  for (const f of failures) {
    const id = f.itemIdentifier;
    if (kind === 'kafka' && typeof id === 'object' && id !== null) {
      const k = id as { partition?: string; offset?: number };
      out.add(`${k.partition}@${k.offset}`);
    } else if (typeof id === 'string') out.add(id);
  }
  return out;
}

/** Replays change logs into a function; resolves with counts. */
export async function replayToLambda(
  files: readonly string[],
  options: ReplayToLambdaOptions,
): Promise<ReplayToLambdaSummary> {
  const batchSize = options.batchSize ?? 100;
  const attempts = options.attempts ?? 3;
  const say = options.onMessage ?? (() => {});
  const summary: ReplayToLambdaSummary = {
    lines: 0,
    records: 0,
    invocations: 0,
    acknowledged: 0,
    failed: 0,
    functionErrors: 0,
    unreadable: 0,
  };
  let kind: Kind | undefined;
  let batch: Pending[] = [];
  const offsets = new Map<string, number>();
  const nextOffset = (tp: string) => {
    const n = offsets.get(tp) ?? 0;
    offsets.set(tp, n + 1);
    return n;
  };

  const send = async (records: Pending[]) => {
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const event =
        kind === 'kafka'
          ? kafkaEvent(pending.map((p) => p.payload as LambdaKafkaRecord))
          : dynamoDbEvent(pending.map((p) => p.payload as Record<string, unknown>));
      summary.invocations++;
      let retry: Pending[];
      try {
        const reported = reportedIds(
          kind!,
          await invokeFunction(options.client, options.functionName, event),
        );
        // Per group: from the first reported record on, everything is delivered again.
        const stopped = new Set<string>();
        retry = [];
        for (const p of pending) {
          if (stopped.has(p.group) || reported.has(p.id)) {
            stopped.add(p.group);
            retry.push(p);
          } else summary.acknowledged++;
        }
      } catch (error) {
        // Only the function's own errors are retried; a missing function, bad credentials or an
        // unreachable endpoint stop the replay at once.
        if (!(error instanceof FunctionInvocationError)) throw error;
        summary.functionErrors++;
        say(`invocation failed: ${(error as Error).message}`);
        retry = pending;
      }
      if (retry.length > 0 && attempt >= attempts) {
        summary.failed += retry.length;
        say(`${retry.length} records still failing after ${attempts} attempts, first: ${retry[0]!.id}`);
        return;
      }
      if (retry.length > 0) await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 200));
      pending = retry;
    }
  };

  const add = async (record: SourceRecord, file: string) => {
    const k: Kind = record.kind === 'dynamodb' ? 'dynamodb' : 'kafka';
    if (kind !== undefined && k !== kind)
      throw new ConfigError(
        `${file}: lambda:${options.functionName} takes one kind of event, but the change logs hold both DynamoDB and Debezium records; replay them separately`,
      );
    kind = k;
    let payload: Pending['payload'];
    let group: string;
    if (k === 'kafka') {
      const r = lambdaKafkaRecordOf(record, nextOffset);
      payload = r;
      group = `${r.topic}-${r.partition}`;
    } else {
      const r = lambdaDynamoDbRecord(record, options.decode?.table);
      payload = r;
      group = typeof r.eventSourceARN === 'string' ? r.eventSourceARN : 'dynamodb';
      // One stream per DynamoDB event, as Lambda invokes per shard.
      if (batch.length > 0 && batch[0]!.group !== group) {
        await send(batch);
        batch = [];
      }
    }
    batch.push({ group, id: idOf(k, payload), payload });
    if (batch.length >= batchSize) {
      await send(batch);
      batch = [];
    }
  };

  for (const file of files) {
    for await (const line of readChangeLog(file, options.decode ?? {})) {
      summary.lines++;
      if (line.error !== undefined) {
        summary.unreadable++;
        say(`${line.file}:${line.line}: not sent: ${line.error.message}`);
        continue;
      }
      for (const r of line.records) {
        summary.records++;
        await add(r, file);
      }
    }
  }
  if (batch.length > 0) await send(batch);
  return summary;
}
