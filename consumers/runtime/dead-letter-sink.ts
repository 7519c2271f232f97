/**
 * Dead-letter sinks: where records that cannot be decoded or planned go, with their position and
 * reason. A sink resolves only once the record is safely stored; a rejection keeps the record undone
 * (the consumer retries it and does not advance past it), so nothing is silently dropped.
 */
import { appendFile } from 'node:fs/promises';
import { deadLetterLogFields } from '../../core/logging/log-contract.ts';
import type { DeadLetterSink } from '../../core/pipeline/dead-letter-sink.ts';
import type { ConsumerMetrics } from './consumer-metrics.ts';
import type { Logger } from './logger.ts';

export type { DeadLetterSink } from '../../core/pipeline/dead-letter-sink.ts';

function rawForJson(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  return out;
}

/** A sink that appends one JSON line per dead letter to `file` (fsync is left to the OS). */
export function fileDeadLetterSink(file: string): DeadLetterSink {
  return (d) =>
    appendFile(
      file,
      `${JSON.stringify({ position: d.position, code: d.code, reason: d.reason, record: rawForJson(d.record), at: new Date().toISOString() })}\n`,
    );
}

/** A sink that writes the dead letter (record included) to the structured log. */
export function logDeadLetterSink(logger: Logger): DeadLetterSink {
  return async (d) =>
    logger.error('dead letter', {
      position: d.position,
      code: d.code,
      reason: d.reason,
      record: rawForJson(d.record),
    });
}

/** Counts and logs every dead letter the inner sink accepted. */
export function countingDeadLetterSink(
  inner: DeadLetterSink,
  metrics: ConsumerMetrics,
  logger: Logger,
): DeadLetterSink {
  return async (d) => {
    await inner(d);
    metrics.deadLetters.inc([d.code]);
    logger.warn('dead letter', deadLetterLogFields(d));
  };
}
