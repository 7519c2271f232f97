import { describe, expect, it, vi } from 'vitest';
import {
  batchKeepAlive,
  kafkajsConfig,
  kafkajsMaxWaitMs,
} from '../../../../consumers/kafka/kafkajs-client.ts';

describe('Kafka connection options → kafkajs', () => {
  it('passes SASL/SCRAM and TLS through unchanged', () => {
    const c = kafkajsConfig({
      brokers: ['b1:9096'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    expect(c.ssl).toBe(true);
    expect(c.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.clientId).toBe('cdc-cache');
  });

  it('maps MSK IAM to OAUTHBEARER over TLS', () => {
    const c = kafkajsConfig({
      brokers: ['b-1.msk:9098'],
      sasl: { mechanism: 'aws-msk-iam', region: 'eu-west-1' },
    });
    expect(c.ssl).toBe(true);
    expect(c.sasl?.mechanism).toBe('oauthbearer');
    expect(typeof (c.sasl as { oauthBearerProvider?: unknown }).oauthBearerProvider).toBe('function');
  });

  it('leaves plaintext without ssl or sasl', () => {
    const c = kafkajsConfig({ brokers: ['127.0.0.1:19092'] });
    expect(c.ssl).toBeUndefined();
    expect(c.sasl).toBeUndefined();
  });

  it('rejects incomplete settings with the fix', () => {
    expect(() => kafkajsConfig({ brokers: [] })).toThrow(/kafka.brokers: give at least one/);
    expect(() => kafkajsConfig({ brokers: ['nohost'] })).toThrow(/"nohost" is not "host:port"/);
    expect(() =>
      kafkajsConfig({ brokers: ['b:1'], sasl: { mechanism: 'plain', username: 'u', password: '' } }),
    ).toThrow(/plain needs username and password/);
    expect(() => kafkajsConfig({ brokers: ['b:1'], sasl: { mechanism: 'aws-msk-iam', region: '' } })).toThrow(
      /aws-msk-iam needs region/,
    );
  });
});

describe('kafkajs long poll vs the session (kafkajs heartbeats only between fetches)', () => {
  it('keeps the default fetch wait at a third of a short session, 5 s otherwise; a given value wins', () => {
    // A 5 s poll against a 6 s session expelled the consistency test's CDC child every 10-12 s at
    // load 20 ("The coordinator is not aware of this member"): its commits refused, batches re-read.
    expect(kafkajsMaxWaitMs(6000)).toBe(2000);
    expect(kafkajsMaxWaitMs(10_000)).toBe(3333);
    expect(kafkajsMaxWaitMs(30_000)).toBe(5000);
    expect(kafkajsMaxWaitMs(6000, 100)).toBe(100);
  });
});

describe('batchKeepAlive (kafkajs heartbeats while a batch runs)', () => {
  it('heartbeats every interval until stopped; a failed heartbeat makes the batch lost', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      let fail = false;
      const k = batchKeepAlive(async () => {
        calls++;
        if (fail) throw new Error('The coordinator is not aware of this member');
      }, 500);
      await vi.advanceTimersByTimeAsync(1600);
      expect(calls).toBe(3);
      expect(k.lost()).toBe(false);
      fail = true;
      await vi.advanceTimersByTimeAsync(500);
      expect(calls).toBe(4);
      expect(k.lost()).toBe(true);
      k.stop();
      await vi.advanceTimersByTimeAsync(5000);
      expect(calls).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});
