/**
 * One invocation's batch through the pipeline, shared by the DynamoDB and Kafka handlers:
 * `processBatch` (decode, plan, apply with retries, dead letters) under a time budget below the
 * function's remaining time, then the partial batch response: per shard or topic-partition, the
 * first record not done and every later record of that group. Records before it were confirmed
 * by the target (or dead-lettered) and may be checkpointed; nothing after a failure is.
 */
import type { SourceRecord } from '../../core/decode/document.ts';
import { deadLetterLogFields } from '../../core/logging/log-contract.ts';
import { SHARED_METRICS as M } from '../../core/metrics/metric-names.ts';
import { processBatch, retryCause } from '../../core/pipeline/batch.ts';
import { pastDeadline, sleepWithin, withDeadline } from './deadline.ts';
import type { FunctionRuntime } from './environment.ts';
import type { BatchResponse, LambdaContext } from './lambda-types.ts';
import { emitMetrics, LAMBDA_METRICS, type MetricPoint } from './metrics.ts';
import { isAuthFailure } from './secret.ts';

/** One record of the invocation's event. */
export interface InvocationRecord<Id> {
  /** Shard (stream ARN) or topic-partition key. */
  group: string;
  /** What to report in batchItemFailures; undefined when the record carries none. */
  id: Id | undefined;
  record: SourceRecord;
  /** When the record entered the stream (epoch ms), for the lag metric. */
  arrivedAt: number | undefined;
}

/**
 * Change events a warm environment must have planned before rules that matched none of them are
 * reported (Lambda has no shutdown hook to judge at, as the consumers do).
 */
export const UNUSED_RULE_AFTER_EVENTS = 1000;

/** A batch that cannot be answered record by record: the whole invocation fails (and is retried). */
export class BatchError extends Error {
  override readonly name = 'BatchError';
}

/** Runs the records and builds the ReportBatchItemFailures response. */
export async function runBatch<Id>(
  rt: FunctionRuntime,
  context: LambdaContext,
  source: 'dynamodb' | 'kafka',
  items: readonly InvocationRecord<Id>[],
  now: () => number = Date.now,
): Promise<BatchResponse<Id>> {
  const started = now();
  const log = rt.log.forInvocation(context);
  const byRecord = new Map(items.map((i) => [i.record, i]));
  const byLabel = new Map(items.map((i) => [i.record.label, i]));
  const deadline = started + Math.max(0, context.getRemainingTimeInMillis() - rt.settings.timeMarginMs);
  const deadLetterCodes = new Map<string, number>();
  const outcome = await processBatch(
    items.map((i) => ({ group: i.group, record: i.record })),
    {
      config: rt.config,
      stats: rt.rules.stats,
      target: withDeadline(rt.target, deadline, now),
      retry: {
        attempts: rt.settings.retryAttempts,
        baseDelayMs: rt.settings.retryBaseMs,
        sleep: sleepWithin(deadline, now),
        giveUp: pastDeadline(deadline, now),
        onRetry: (attempt, error) => log.warn('target failed, retrying', { attempt, error }),
      },
      deadLetter: async (d) => {
        deadLetterCodes.set(d.code, (deadLetterCodes.get(d.code) ?? 0) + 1);
        const group = byLabel.get(d.position)?.group ?? '';
        // The same line as the consumers' (core/logging/log-contract.ts); the sink gets the group.
        log.warn('dead letter', deadLetterLogFields(d));
        await rt.deadLetter.send({
          ...d,
          group,
          functionName: context.functionName,
          requestId: context.awsRequestId,
        });
      },
    },
  );

  const failures: { itemIdentifier: Id }[] = [];
  const failedPositions: string[] = [];
  for (const [group, first] of outcome.firstUnfinished) {
    if (first < 0) continue;
    const records = outcome.groups.get(group)!;
    for (let i = first; i < records.length; i++) {
      const item = byRecord.get(records[i]!.record)!;
      if (item.id === undefined)
        throw new BatchError(
          `${item.record.label}: cannot be reported (no sequence number / offset); failing the batch`,
        );
      failures.push({ itemIdentifier: item.id });
    }
    failedPositions.push(records[first]!.record.label);
  }

  let applied = 0;
  let fenced = 0;
  let failedOps = 0;
  const opCounts = new Map<string, number>();
  const errorCodes = new Map<string, number>();
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  outcome.results.forEach((r, i) => {
    const kind = outcome.ops[i]?.kind ?? 'unknown';
    if (!r.ok) {
      failedOps++;
      count(opCounts, `${kind}\u0000failed`);
      count(errorCodes, (r.error as { code?: string }).code ?? 'E_TARGET');
    } else {
      if (r.outcome === 'applied') applied++;
      else fenced++;
      count(opCounts, `${kind}\u0000${r.outcome}`);
    }
  });
  let oldest: number | undefined;
  for (const i of items)
    if (i.arrivedAt !== undefined && (oldest === undefined || i.arrivedAt < oldest)) oldest = i.arrivedAt;
  const summary = {
    records: items.length,
    events: outcome.events,
    skipped: outcome.skipped,
    ops: outcome.ops.length,
    applied,
    fenced,
    failedOps,
    deadLetters: outcome.deadLetters,
    failedRecords: failures.length,
  };
  // Refused credentials (a rotated password): the next invocation reads the secret again.
  if (outcome.targetError !== undefined && isAuthFailure(outcome.targetError)) rt.authFailed();
  if (failures.length > 0)
    log.warn('batch partially failed', {
      ...summary,
      firstFailed: failedPositions,
      error: retryCause(outcome).error,
    });
  else log.info('batch done', summary);
  // What the rules did: each finding logged once per environment, counts as metrics below.
  const rules = rt.rules.drain();
  for (const f of [...rules.findings, ...rt.rules.unusedRulesOnceAfter(UNUSED_RULE_AFTER_EVENTS)])
    log.warn('rule finding', { kind: f.kind, finding: f.message });
  if (rt.settings.metricsNamespace !== undefined) {
    // A group (shard, topic-partition) whose first record is done moves its checkpoint.
    let checkpoints = 0;
    for (const first of outcome.firstUnfinished.values()) if (first !== 0) checkpoints++;
    const points: MetricPoint[] = [
      { metric: LAMBDA_METRICS.records, labels: [source], value: items.length },
      { metric: LAMBDA_METRICS.failedRecords, labels: [source], value: failures.length },
      { metric: M.events, labels: [source], value: outcome.events + outcome.skipped },
      { metric: M.checkpoints, labels: [source], value: checkpoints },
      { metric: M.batchDuration, labels: [source], value: (now() - started) / 1000 },
    ];
    if (oldest !== undefined)
      points.push({ metric: M.sourceLag, labels: [source], value: Math.max(0, started - oldest) / 1000 });
    for (const [k, value] of opCounts) points.push({ metric: M.ops, labels: k.split('\u0000'), value });
    for (const [code, value] of deadLetterCodes)
      points.push({ metric: M.deadLetters, labels: [code], value });
    for (const [code, value] of errorCodes) points.push({ metric: M.targetErrors, labels: [code], value });
    points.push(...rules.deltas);
    emitMetrics(
      rt.metricsSink,
      rt.settings.metricsNamespace,
      context.functionName,
      points,
      {
        requestId: context.awsRequestId,
      },
      now(),
    );
  }
  return { batchItemFailures: failures };
}
