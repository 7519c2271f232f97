/**
 * Wires `cdc-cache consume dynamodb`: config → SDK streams client → lease/checkpoint store (a
 * DynamoDB lease table, the cache target — both scoped by the stream ARN — or files in `stateDir`)
 * → poller, inside the service shell.
 */
import { hostname } from 'node:os';
import { loadOptional } from '../../core/optional-dependency.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import type { DynamoDbSection } from '../runtime/consumer-config.ts';
import {
  countingDeadLetterSink,
  fileDeadLetterSink,
  logDeadLetterSink,
} from '../runtime/dead-letter-sink.ts';
import { createRuleReporter } from '../runtime/rule-reporter.ts';
import type { ServiceContext, ServiceWorker } from '../runtime/service.ts';
import { createAwsStreamsClient } from './aws-streams-client.ts';
import { createDynamoDbPoller } from './dynamodb-poller.ts';
import { createFileLeaseStore } from './file-lease-store.ts';
import { createTargetLeaseStore } from './target-lease-store.ts';

/** Builds the DynamoDB worker for the service shell. */
export async function buildDynamoDbWorker(
  d: DynamoDbSection,
  rules: CompiledConfig,
  ctx: ServiceContext,
): Promise<ServiceWorker> {
  if (d.streamArn === undefined && d.table === undefined)
    throw new Error('dynamodb: give --stream-arn or --table (or dynamodb.streamArn / dynamodb.table)');
  const streams = createAwsStreamsClient(
    d.endpoint === undefined ? { region: d.region } : { region: d.region, endpoint: d.endpoint },
  );
  // Loaded only for the lease table, so `--lease-store target|file` runs without @aws-sdk/client-dynamodb.
  const leaseTable =
    d.leaseStore === 'dynamodb'
      ? (
          await loadOptional(
            'consume dynamodb --lease-store dynamodb (the lease table)',
            () => import('./dynamodb-lease-table.ts'),
          )
        ).createDynamoDbLeaseTable({
          table: d.leaseTable,
          region: d.region,
          ...(d.endpoint === undefined ? {} : { endpoint: d.endpoint }),
        })
      : undefined;
  const leases =
    d.leaseStore === 'file'
      ? await createFileLeaseStore({ dir: d.stateDir })
      : leaseTable !== undefined
        ? (streamArn: string) => leaseTable.storeFor(streamArn)
        : (streamArn: string) => createTargetLeaseStore(ctx.target, streamArn);
  const sink =
    d.deadLetterFile === undefined ? logDeadLetterSink(ctx.logger) : fileDeadLetterSink(d.deadLetterFile);
  const workerId = d.workerId ?? `${hostname()}-${process.pid}`;
  ctx.logger.info('shard leases and checkpoints', {
    leaseStore: d.leaseStore,
    ...(d.leaseStore === 'file'
      ? { stateDir: d.stateDir }
      : d.leaseStore === 'dynamodb'
        ? { leaseTable: d.leaseTable }
        : { target: ctx.target.kind }),
  });
  const ruleReporter = createRuleReporter(rules, ctx.metrics.registry, ctx.logger);
  const poller = createDynamoDbPoller({
    streams,
    ...(d.streamArn === undefined ? {} : { streamArn: d.streamArn }),
    ...(d.table === undefined ? {} : { table: d.table }),
    startPosition: d.startPosition,
    leases,
    workerId,
    leaseTtlMs: d.leaseTtlMs,
    limit: d.limit,
    config: rules,
    target: ctx.target,
    deadLetter: countingDeadLetterSink(sink, ctx.metrics, ctx.logger),
    metrics: ctx.metrics,
    rules: ruleReporter,
    logger: ctx.logger.child({ worker: workerId }),
  });
  const s = poller.state;
  return {
    start: () => poller.start(),
    async stop() {
      await poller.stop();
      ruleReporter.final();
      streams.close();
      leaseTable?.close();
    },
    health: {
      live: () => true,
      notReadyReason: () =>
        s.streamArn === null
          ? `stream not found yet${s.lastScanError === null ? '' : `: ${s.lastScanError.message}`}`
          : s.lastScanError !== null && s.leased === 0
            ? `stream scans failing and no shard is read: ${s.lastScanError.message}`
            : null,
    },
    progress: () => ({
      events: s.records,
      lag: -1,
      deadLetters: s.deadLetters,
      note: `${s.leased} shard(s)`,
    }),
  };
}
