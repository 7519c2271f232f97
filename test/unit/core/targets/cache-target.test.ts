/**
 * Capabilities, not casts (issue 16): a backend serves its fill-lease and shard-lease stores as
 * methods of its CacheTarget, and the wrappers the processes put around a target (the consumers'
 * metrics, the Lambda deadline) pass them through, so callers never need the unwrapped target.
 */
import { describe, expect, it } from 'vitest';
import { createTargetLeaseStore } from '../../../../consumers/dynamodb/target-lease-store.ts';
import { createConsumerMetrics, instrumentTarget } from '../../../../consumers/runtime/consumer-metrics.ts';
import { leaseStoreFor } from '../../../../core/client/store-for-target.ts';
import { type CacheTarget, targetCapabilities } from '../../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { withDeadline } from '../../../../functions/runtime/deadline.ts';

describe('target capabilities', () => {
  it('pass through the instrumented and the deadline wrappers to the same engine', async () => {
    const target = createEngineTarget();
    const wrapped = withDeadline(instrumentTarget(target, createConsumerMetrics()), Date.now() + 60_000);

    const fills = leaseStoreFor(wrapped);
    expect(fills.kind).toBe('engine');
    const token = await fills.acquireLease('user:1', 5_000);
    expect(token).not.toBeNull();
    // The lease lives in the wrapped target's engine: a second lease on the key is refused there.
    expect(target.engine.acquireLease('user:1', 5_000)).toBeNull();

    const leases = createTargetLeaseStore(wrapped, 'stream-a');
    expect(await leases.acquire('shard-1', 'worker-a', 5_000)).toBe(true);
    expect(await target.shardLeases('stream-a').acquire('shard-1', 'worker-b', 5_000)).toBe(false);
    await target.close();
  });

  it('stay absent on a target without them, and callers refuse it with the fix', () => {
    const bare: CacheTarget = {
      kind: 'custom',
      apply: async () => [],
      get: async () => null,
      dump: async () => ({}),
      close: async () => {},
    };
    expect(targetCapabilities(bare)).toEqual({});
    expect(() => leaseStoreFor(bare)).toThrow(/no lease store for target kind "custom"/);
    expect(() => createTargetLeaseStore(bare, 's')).toThrow(/use --lease-store file/);
  });

  it('refuse an empty stream scope on every backend', () => {
    const target = createEngineTarget();
    expect(() => target.shardLeases('')).toThrow(/empty scope/);
    return target.close();
  });
});
