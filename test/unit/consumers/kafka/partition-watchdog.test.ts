/**
 * The Kafka stall watchdog (consumers/kafka/partition-watchdog.ts) on offsets given round by round
 * (the admin port's two reads) and a clock the test moves: a partition with lag whose committed
 * offset stays put for `stallAfterMs` is logged once (one error line naming group, topic,
 * partition, committed and lag) and counted; progress, no lag, or waiting for the target are not
 * stalls; a stalled partition that commits again is logged and leaves the gauge.
 */
import { describe, expect, it } from 'vitest';
import type { KafkaPartitionOffsets } from '../../../../consumers/kafka/kafka-port.ts';
import { createPartitionWatchdog } from '../../../../consumers/kafka/partition-watchdog.ts';
import { createConsumerMetrics } from '../../../../consumers/runtime/consumer-metrics.ts';
import type { LogFields, Logger } from '../../../../consumers/runtime/logger.ts';

function setup(retrying = new Set<number>()) {
  let t = 0;
  let committed = new Map<number, string>([
    [0, '10'],
    [1, '5'],
  ]);
  let high: KafkaPartitionOffsets[] = [
    { partition: 0, low: '0', high: '50' },
    { partition: 1, low: '0', high: '5' },
  ];
  const lines: { level: string; msg: string; fields?: LogFields | undefined }[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => lines.push({ level, msg, fields });
  const logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  } as unknown as Logger;
  const metrics = createConsumerMetrics();
  const dog = createPartitionWatchdog({
    admin: {
      committedOffsets: async (groupId, topic) => {
        expect([groupId, topic]).toEqual(['g1', 'orders']);
        return new Map(committed);
      },
      topicOffsets: async () => high,
    },
    groupId: 'g1',
    assigned: () => ({ orders: [0, 1] }),
    retrying: (_topic, partition) => retrying.has(partition),
    stallAfterMs: 90_000,
    metrics,
    logger,
    now: () => t,
  });
  return {
    dog,
    lines,
    metrics,
    advance: (ms: number) => {
      t += ms;
    },
    commit: (p: number, offset: string) => {
      committed = new Map(committed).set(p, offset);
    },
    setHigh: (h: KafkaPartitionOffsets[]) => {
      high = h;
    },
  };
}

describe('partition watchdog', () => {
  it('reports a partition with lag and no committed progress once, with group, topic, partition, committed and lag', async () => {
    const s = setup();
    await s.dog.check();
    s.advance(60_000);
    await s.dog.check();
    expect(s.lines.filter((l) => l.level === 'error')).toEqual([]);
    s.advance(30_000);
    await s.dog.check();
    s.advance(30_000);
    await s.dog.check();
    const errors = s.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('partition stalled: lag and no committed progress');
    expect(errors[0]!.fields).toEqual({
      group: 'g1',
      topic: 'orders',
      partition: 0,
      committed: '10',
      high: '50',
      lag: 40,
      stalledForMs: 90_000,
    });
    // Partition 1 has no lag: never a stall.
    expect(s.dog.stalled()).toEqual(['orders/0']);
    expect(s.metrics.kafkaStalls.get(['orders', '0'])).toBe(1);
    expect(s.metrics.kafkaStalls.get(['orders', '1'])).toBe(0);
    expect(s.metrics.kafkaStalledPartitions.get()).toBe(1);
    expect(s.metrics.kafkaLag.get(['orders', '0'])).toBe(40);

    // The lag keeps growing while stalled: the gauge follows, no second line.
    s.setHigh([
      { partition: 0, low: '0', high: '70' },
      { partition: 1, low: '0', high: '5' },
    ]);
    s.advance(30_000);
    await s.dog.check();
    expect(s.metrics.kafkaLag.get(['orders', '0'])).toBe(60);
    expect(s.lines.filter((l) => l.level === 'error')).toHaveLength(1);

    // It commits again: one info line, out of the gauge.
    s.commit(0, '20');
    s.advance(30_000);
    await s.dog.check();
    expect(s.lines.at(-1)).toMatchObject({ level: 'info', msg: 'partition moving again' });
    expect(s.dog.stalled()).toEqual([]);
    expect(s.metrics.kafkaStalledPartitions.get()).toBe(0);
  });

  it('committed progress restarts the clock', async () => {
    const s = setup();
    await s.dog.check();
    for (let i = 0; i < 6; i++) {
      s.advance(60_000);
      s.commit(0, String(11 + i));
      await s.dog.check();
    }
    expect(s.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(s.metrics.kafkaStalledPartitions.get()).toBe(0);
  });

  it('a partition waiting for the target is not a stall (the outage is logged by the consumer)', async () => {
    const s = setup(new Set([0]));
    await s.dog.check();
    s.advance(200_000);
    await s.dog.check();
    expect(s.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('an admin failure is one warning per distinct error, and the next round works', async () => {
    const s = setup();
    let fail = true;
    const real = s.dog;
    const dog = createPartitionWatchdog({
      admin: {
        committedOffsets: async () => {
          if (fail) throw new Error('broker unreachable');
          return new Map([[0, '10']]);
        },
        topicOffsets: async () => [{ partition: 0, low: '0', high: '50' }],
      },
      groupId: 'g1',
      assigned: () => ({ orders: [0] }),
      retrying: () => false,
      stallAfterMs: 1,
      metrics: s.metrics,
      logger: { warn: (msg: string) => s.lines.push({ level: 'warn', msg }) } as unknown as Logger,
      now: () => 0,
    });
    await dog.check();
    await dog.check();
    expect(s.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'stall watchdog: cannot read the offsets',
    ]);
    fail = false;
    await dog.check();
    expect(real.stalled()).toEqual([]);
  });
});
