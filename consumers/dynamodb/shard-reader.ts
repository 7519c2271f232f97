/**
 * Reads one leased shard to its end (or until stopped / the lease is lost):
 * GetShardIterator from the checkpoint (AFTER_SEQUENCE_NUMBER) or the start position, then a
 * GetRecords loop with adaptive polling: no wait after a full page (catching up), a short wait after
 * a partial one, a growing wait (up to `maxIdleMs`) while the shard is quiet. Every page goes
 * through `processBatch`; the checkpoint moves to the last record whose ops the target acknowledged.
 *
 * Recovery: an expired iterator is re-created from the checkpoint; a trimmed position restarts at
 * TRIM_HORIZON (logged: records were lost to retention); throttling and target outages back off
 * without moving the checkpoint. A closed shard (no next iterator) is marked finished.
 */
import { splitDocument } from '../../core/decode/document.ts';
import { isRetriable } from '../../core/errors.ts';
import { processBatch, retryCause } from '../../core/pipeline/batch.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import type { ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';
import { type BackoffOptions, backoffDelay, sleepWithKeepAlive } from '../runtime/backoff.ts';
import { type ConsumerMetrics, observeEndToEnd } from '../runtime/consumer-metrics.ts';
import type { DeadLetterSink } from '../runtime/dead-letter-sink.ts';
import type { Logger } from '../runtime/logger.ts';
import type { RuleReporter } from '../runtime/rule-reporter.ts';
import { type IteratorStart, StreamsErrorKind, type StreamsPort } from './streams-port.ts';

/** Polling settings. */
export interface PollingOptions {
  /** Wait after a partial page, ms. @default 250 */
  minIdleMs?: number;
  /** Longest wait while the shard is quiet, ms. @default 2000 */
  maxIdleMs?: number;
}

/**
 * How a shard's records are applied: the rules, the target, where dead letters go, and how the
 * reader polls and backs off. The poller takes these and passes them to each shard reader.
 */
export interface ShardPipelineOptions {
  config: CompiledConfig;
  target: CacheTarget;
  deadLetter: DeadLetterSink;
  metrics: ConsumerMetrics;
  logger: Logger;
  /** Counts what each rule did (metrics and logs); see consumers/runtime/rule-reporter.ts. */
  rules?: RuleReporter;
  polling?: PollingOptions;
  backoff?: BackoffOptions;
}

/** What a shard reader needs. */
export interface ShardReaderOptions extends ShardPipelineOptions {
  streams: StreamsPort;
  streamArn: string;
  shardId: string;
  table?: string;
  /**
   * Where to start without a checkpoint. The poller passes TRIM_HORIZON for a child of a shard that
   * was read (whatever `--start` says), so nothing written to the child is skipped.
   */
  startPosition: 'TRIM_HORIZON' | 'LATEST';
  /** The shard was closed when described: at LATEST without a checkpoint it is finished unread. */
  closed?: boolean;
  leases: ShardLeaseStore;
  owner: string;
  leaseTtlMs: number;
  /**
   * Wait this long (renewing the lease) before reading: a stolen lease's former holder needs up to
   * a renewal period to see the loss and stop. @default 0
   */
  startDelayMs?: number;
  limit: number;
  /** True once the poller is stopping. */
  stopping(): boolean;
  /** Counts records done, for progress. */
  onDone(records: number, deadLetters: number): void;
  /** The shard's iterator age after each page, seconds (0 when the page was empty: at the tip). */
  onIteratorAge?(seconds: number): void;
}

/** How a shard reader ended. */
export type ShardReaderEnd = 'finished' | 'stopped' | 'lease-lost';

function seqOf(record: unknown): string {
  return ((record as { dynamodb?: { SequenceNumber?: string } }).dynamodb?.SequenceNumber ?? '') as string;
}

function creationMs(record: unknown): number {
  const t = (record as { dynamodb?: { ApproximateCreationDateTime?: Date | number } }).dynamodb
    ?.ApproximateCreationDateTime;
  if (t instanceof Date) return t.getTime();
  return typeof t === 'number' ? (t < 1e11 ? t * 1000 : t) : 0;
}

/** Reads one shard; resolves with why it ended. The caller holds the lease on entry. */
export async function readShard(o: ShardReaderOptions): Promise<ShardReaderEnd> {
  const log = o.logger.child({ shard: o.shardId });
  const minIdle = o.polling?.minIdleMs ?? 250;
  const maxIdle = o.polling?.maxIdleMs ?? 2000;
  let lastRenew = Date.now();
  let leaseLost = false;
  // Renews every ttl/3. While the lease store is unreachable (a target outage, retriable errors) the
  // reader keeps its place and retries the renewal each keep-alive; once a whole TTL has passed
  // without a successful renewal the lease may be someone else's, so the reader stops ('lease-lost')
  // and the poller takes the shard again from its checkpoint when it can. Other errors escape.
  const renewIfDue = async () => {
    const since = Date.now() - lastRenew;
    if (since < o.leaseTtlMs / 3) return;
    try {
      leaseLost = !(await o.leases.renew(o.shardId, o.owner, o.leaseTtlMs));
      lastRenew = Date.now();
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (since >= o.leaseTtlMs) {
        log.warn('lease not renewed for a whole TTL (lease store unreachable); stopping this shard', {
          error,
        });
        leaseLost = true;
      } else log.warn('lease renewal failed; retrying', { error, sinceRenewMs: since });
    }
  };
  const cancelled = () => o.stopping() || leaseLost;
  const renewSlice = Math.max(10, Math.floor(o.leaseTtlMs / 6));

  if ((o.startDelayMs ?? 0) > 0) {
    await sleepWithKeepAlive(o.startDelayMs ?? 0, cancelled, renewIfDue, renewSlice);
    if (cancelled()) return leaseLost ? 'lease-lost' : 'stopped';
  }

  const initial = await o.leases.checkpoint(o.shardId);
  if (initial.sequenceNumber === undefined && o.startPosition === 'LATEST' && o.closed === true) {
    // Closed before this consumer first reached it at LATEST: only the past is in it.
    if (!(await o.leases.setCheckpoint(o.shardId, o.owner, { finished: true, skipped: true }))) {
      log.warn('lease lost before marking the shard finished');
      return 'lease-lost';
    }
    log.info('shard closed before the first start at LATEST; marked finished without reading');
    return 'finished';
  }
  let start: IteratorStart =
    initial.sequenceNumber !== undefined
      ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: initial.sequenceNumber }
      : { type: o.startPosition };
  log.info('reading shard', { from: start.type, sequenceNumber: initial.sequenceNumber });
  let iterator: string | undefined;
  let idle = minIdle;
  let failures = 0;

  while (!cancelled()) {
    try {
      iterator ??= await o.streams.getShardIterator(o.streamArn, o.shardId, start);
      if (iterator === undefined) break;
      const page = await o.streams.getRecords(iterator, o.limit);
      failures = 0;
      // Confirm the lease before applying: a reader whose lease was stolen stops here, at most a
      // renewal period after the steal, well before the thief starts (one lease period after it).
      await renewIfDue();
      if (cancelled()) break;
      if (page.records.length > 0) {
        o.metrics.events.inc(['dynamodb'], page.records.length);
        const oldest = creationMs(page.records[0]);
        if (oldest > 0) o.metrics.sourceLagSeconds.set(Math.max(0, Date.now() - oldest) / 1000, ['dynamodb']);
        const records = splitDocument(
          { Records: page.records },
          o.table === undefined ? { source: 'dynamodb' } : { source: 'dynamodb', table: o.table },
          o.shardId,
        ).map((record) => ({ group: o.shardId, record }));
        // Retry this page until every record is done: the checkpoint never passes unapplied work.
        let pending = records;
        for (let attempt = 1; pending.length > 0; attempt++) {
          const started = performance.now();
          const outcome = await processBatch(pending, {
            config: o.config,
            target: o.target,
            deadLetter: o.deadLetter,
            retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 500 },
            ...(attempt === 1 && o.rules !== undefined ? { stats: o.rules.stats } : {}),
          });
          o.metrics.batchDurationSeconds.observe((performance.now() - started) / 1000, ['dynamodb']);
          if (attempt === 1) o.rules?.flush();
          const first = outcome.firstUnfinished.get(o.shardId) ?? -1;
          const done = first === -1 ? pending.length : first;
          if (done > 0) {
            const lastRaw = pending[done - 1]!.record.raw;
            const seq = seqOf(lastRaw);
            if (!(await o.leases.setCheckpoint(o.shardId, o.owner, { sequenceNumber: seq }))) {
              log.warn('lease lost before checkpoint; stopping this shard', { sequenceNumber: seq });
              return 'lease-lost';
            }
            o.metrics.checkpoints.inc(['dynamodb']);
            start = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: seq };
            o.onDone(done, outcome.deadLetters);
            const created = creationMs(lastRaw);
            if (created > 0) {
              const age = Math.max(0, Date.now() - created) / 1000;
              o.metrics.iteratorAgeSeconds.set(age, [o.shardId]);
              o.onIteratorAge?.(age);
              observeEndToEnd(o.metrics, created);
            }
          }
          if (first === -1) break;
          o.metrics.retries.inc();
          const delay = backoffDelay(attempt, o.backoff);
          const cause = retryCause(outcome);
          if (cause.error === outcome.deadLetterError) o.metrics.deadLetterFailures.inc();
          log.warn(cause.message, { attempt, delayMs: Math.round(delay), error: cause.error });
          await sleepWithKeepAlive(delay, cancelled, renewIfDue, renewSlice);
          if (cancelled()) return leaseLost ? 'lease-lost' : 'stopped';
          pending = pending.slice(done);
        }
      }
      if (page.records.length === 0) o.onIteratorAge?.(0);
      iterator = page.nextIterator;
      if (iterator === undefined) {
        if (!(await o.leases.setCheckpoint(o.shardId, o.owner, { finished: true }))) {
          log.warn('lease lost before marking the shard finished; its new holder finishes it');
          return 'lease-lost';
        }
        o.metrics.iteratorAgeSeconds.remove([o.shardId]);
        log.info('shard closed and fully read');
        return 'finished';
      }
      await renewIfDue();
      if (page.records.length >= o.limit) idle = minIdle;
      else {
        await sleepWithKeepAlive(idle, cancelled, renewIfDue, Math.min(idle, renewSlice));
        idle = page.records.length > 0 ? minIdle : Math.min(maxIdle, idle * 2);
      }
    } catch (error) {
      const kind = o.streams.kindOf(error);
      if (kind === StreamsErrorKind.ExpiredIterator) {
        log.info('shard iterator expired; re-creating it from the checkpoint');
        iterator = undefined;
        continue;
      }
      if (kind === StreamsErrorKind.Trimmed) {
        log.error(
          'checkpoint is older than the stream retention; restarting at TRIM_HORIZON (records were lost)',
        );
        iterator = undefined;
        start = { type: 'TRIM_HORIZON' };
        continue;
      }
      if (kind === StreamsErrorKind.NotFound) {
        log.warn('shard or stream not found; giving the shard up', { error });
        return 'stopped';
      }
      failures++;
      const delay = backoffDelay(failures, { baseDelayMs: 100, maxDelayMs: 5000 });
      log.warn(
        kind === StreamsErrorKind.Throttled ? 'throttled; backing off' : 'streams call failed; backing off',
        {
          error,
          delayMs: Math.round(delay),
        },
      );
      iterator = undefined;
      await sleepWithKeepAlive(delay, cancelled, renewIfDue, renewSlice);
    }
  }
  return leaseLost ? 'lease-lost' : 'stopped';
}
