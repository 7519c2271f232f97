/**
 * The Kafka consumer's batch semantics, driven through our KafkaConsumerPort by an in-memory fake
 * (the real broker runs in test/integration/consumers): offsets resolve only after the target
 * acknowledged, a retriable outage pauses and retries without resolving past unapplied records,
 * poison records resolve once dead-lettered, a revoked partition stops at once.
 */
import { describe, expect, it, vi } from 'vitest';
import { createKafkaCdcConsumer } from '../../../../consumers/kafka/kafka-cdc-consumer.ts';
import type {
  KafkaBatch,
  KafkaBatchControls,
  KafkaConsumerPort,
  KafkaRunOptions,
} from '../../../../consumers/kafka/kafka-port.ts';
import { createConsumerMetrics } from '../../../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../../../consumers/runtime/logger.ts';
import { TargetError } from '../../../../core/errors.ts';
import type { DeadLetter } from '../../../../core/pipeline/replay.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import type { CacheTarget } from '../../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';

const config = compileConfig({
  defaults: { ttl: 0 },
  rules: [{ table: 'public.users', keys: ['user:{id}'], refresh: {} }],
});

const value = (id: number, lsn: number, name: string) =>
  Buffer.from(
    JSON.stringify({
      before: null,
      after: { id, name },
      source: { connector: 'postgresql', schema: 'public', table: 'users', lsn, ts_ms: 1 },
      op: 'c',
      ts_ms: 1,
    }),
  );

function fakePort() {
  let run: KafkaRunOptions | undefined;
  const port: KafkaConsumerPort = {
    connect: async () => {},
    subscribe: async () => {},
    run: async (r) => {
      run = r;
    },
    stop: async () => {},
    disconnect: async () => {},
    onGroupJoin: () => {},
    onCrash: () => {},
  };
  const deliver = async (batch: KafkaBatch, overrides: Partial<KafkaBatchControls> = {}) => {
    const resolved: string[] = [];
    const events: string[] = [];
    const controls: KafkaBatchControls = {
      resolveOffset: (o) => void resolved.push(o),
      heartbeat: async () => void events.push('heartbeat'),
      commitIfNecessary: async () => void events.push('commit'),
      isRunning: () => true,
      isStale: () => false,
      pause: () => {
        events.push('pause');
        return () => void events.push('resume');
      },
      ...overrides,
    };
    await run!.eachBatch(batch, controls);
    return { resolved, events };
  };
  return { port, deliver };
}

function consumer(port: KafkaConsumerPort, target: CacheTarget, deadLetters: DeadLetter[] = []) {
  const metrics = createConsumerMetrics();
  return {
    metrics,
    c: createKafkaCdcConsumer({
      consumer: port,
      topics: ['db.public.users'],
      config,
      target,
      deadLetter: async (d) => void deadLetters.push(d),
      metrics,
      logger: silentLogger,
      backoff: { baseDelayMs: 1, maxDelayMs: 2 },
      chunkSize: 2,
    }),
  };
}

const batch = (messages: { offset: string; value: Buffer | null }[]): KafkaBatch => ({
  topic: 'db.public.users',
  partition: 0,
  highWatermark: String(Number(messages.at(-1)!.offset) + 1),
  messages: messages.map((m) => ({ ...m, key: Buffer.from('{"id":1}'), timestamp: '0' })),
});

describe('Kafka consumer batches', () => {
  it('resolves each chunk after the target acknowledged it, heartbeating between chunks', async () => {
    const { port, deliver } = fakePort();
    const target = createEngineTarget();
    const { c, metrics } = consumer(port, target);
    await c.start();
    const { resolved, events } = await deliver(
      batch([
        { offset: '10', value: value(1, 100, 'a') },
        { offset: '11', value: value(2, 101, 'b') },
        { offset: '12', value: value(1, 102, 'c') },
      ]),
    );
    expect(resolved).toEqual(['11', '12']);
    expect(events.filter((e) => e === 'heartbeat')).toHaveLength(2);
    expect(JSON.parse((await target.get('user:1'))!)).toEqual({ id: 1, name: 'c' });
    expect(c.state.records).toBe(3);
    expect(metrics.kafkaLag.get(['db.public.users', '0'])).toBe(0);
  });

  it('during an outage pauses, retries with backoff and resolves nothing unapplied; resumes when back', async () => {
    const { port, deliver } = fakePort();
    const engine = createEngineTarget();
    let failures = 3;
    const target: CacheTarget = {
      ...engine,
      async apply(ops) {
        if (failures > 0) {
          failures--;
          return ops.map(() => ({ ok: false as const, error: new TargetError('down') }));
        }
        return engine.apply(ops);
      },
    };
    const { c, metrics } = consumer(port, target);
    await c.start();
    const { resolved, events } = await deliver(batch([{ offset: '0', value: value(1, 1, 'a') }]));
    expect(events.slice(0, 1)).toEqual(['pause']);
    expect(events).toContain('resume');
    expect(resolved).toEqual(['0']);
    expect(metrics.retries.get()).toBeGreaterThanOrEqual(1);
    expect(await engine.get('user:1')).not.toBeNull();
  });

  it('stops without resolving when the partition is revoked during an outage', async () => {
    const { port, deliver } = fakePort();
    const engine = createEngineTarget();
    const target: CacheTarget = {
      ...engine,
      apply: async (ops) => ops.map(() => ({ ok: false as const, error: new TargetError('down') })),
    };
    const { c } = consumer(port, target);
    await c.start();
    let stale = false;
    setTimeout(() => {
      stale = true;
    }, 50);
    const { resolved } = await deliver(batch([{ offset: '5', value: value(1, 1, 'a') }]), {
      isStale: () => stale,
    });
    expect(resolved).toEqual([]);
    expect(c.state.retrying).toBe(0);
  });

  it('dead-letters poison records (bad JSON, tombstones skip) and resolves past them', async () => {
    const { port, deliver } = fakePort();
    const target = createEngineTarget();
    const dead: DeadLetter[] = [];
    const { c } = consumer(port, target, dead);
    await c.start();
    const { resolved } = await deliver(
      batch([
        { offset: '0', value: Buffer.from('{"after":') },
        { offset: '1', value: null },
        { offset: '2', value: value(1, 5, 'ok') },
      ]),
    );
    expect(resolved).toEqual(['1', '2']);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ position: 'db.public.users/0@0', code: 'E_BAD_JSON' });
    expect(c.state.deadLetters).toBe(1);
  });
});

describe('Kafka consumer readiness', () => {
  it('reports a partition the stall watchdog found stalled as not ready, and ready again once it commits', async () => {
    // Before: the watchdog logged and counted a stall but /readyz kept answering 200 "ready".
    let join: ((assigned: Record<string, number[]>) => void) | undefined;
    const port: KafkaConsumerPort = {
      connect: async () => {},
      subscribe: async () => {},
      run: async () => {},
      stop: async () => {},
      disconnect: async () => {},
      onGroupJoin: (f) => {
        join = f;
      },
      onCrash: () => {},
    };
    let committed = '5';
    const c = createKafkaCdcConsumer({
      consumer: port,
      topics: ['db.public.users'],
      config,
      target: createEngineTarget(),
      deadLetter: async () => {},
      metrics: createConsumerMetrics(),
      logger: silentLogger,
      watchdog: {
        admin: {
          committedOffsets: async () => new Map([[0, committed]]),
          topicOffsets: async () => [{ partition: 0, low: '0', high: '40' }],
        },
        groupId: 'g',
        // The watchdog checks every session timeout and calls 3 of them without progress a stall.
        sessionTimeoutMs: 5,
      },
    });
    await c.start();
    expect(c.notReadyReason()).toBe('not yet joined the consumer group');
    join!({ 'db.public.users': [0] });
    await vi.waitFor(() => expect(c.notReadyReason()).not.toBeNull(), { timeout: 10_000, interval: 5 });
    expect(c.notReadyReason()).toMatch(
      /^1 partition\(s\) stalled: lag and no committed progress: db\.public\.users\/0 \(lag 35, \d+ s\)$/,
    );
    committed = '40';
    await vi.waitFor(() => expect(c.notReadyReason()).toBeNull(), { timeout: 10_000, interval: 5 });
    await c.stop();
  });
});
