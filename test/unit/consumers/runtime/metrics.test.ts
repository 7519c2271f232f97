import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../consumers/runtime/backoff.ts';
import { resolveConsumerConfig } from '../../../../consumers/runtime/consumer-config.ts';
import { createConsumerMetrics } from '../../../../consumers/runtime/consumer-metrics.ts';
import { type RunningHttpServer, startHttpServer } from '../../../../consumers/runtime/http-server.ts';
import { createJsonLogger } from '../../../../consumers/runtime/logger.ts';
import { MetricsRegistry } from '../../../../consumers/runtime/metrics.ts';
import { formatProgress } from '../../../../consumers/runtime/progress.ts';
import { SHARED_METRICS } from '../../../../core/metrics/metric-names.ts';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and cumulative histogram buckets in Prometheus text format', async () => {
    const r = new MetricsRegistry({ processMetrics: false });
    const c = r.counter('x_total', 'Things.', ['type']);
    c.inc(['a']);
    c.inc(['a'], 2);
    c.inc(['b"q']);
    const g = r.gauge('lag', 'Lag.', ['p']);
    g.set(5, ['0']);
    g.set(7, ['1']);
    g.remove(['1']);
    const h = r.histogram('lat_seconds', 'Latency.', [], [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3);
    const text = await r.render();
    expect(text).toContain('# TYPE x_total counter\nx_total{type="a"} 3\nx_total{type="b\\"q"} 1');
    expect(text).toContain('lag{p="0"} 5');
    expect(text).not.toContain('lag{p="1"}');
    expect(text).toContain(
      'lat_seconds_bucket{le="0.1"} 1\nlat_seconds_bucket{le="1"} 2\nlat_seconds_bucket{le="+Inf"} 3',
    );
    expect(text).toContain('lat_seconds_count 3');
    expect(h.get()).toEqual({ count: 3, sum: 3.55 });
  });

  it('refuses a metric registered twice', () => {
    const r = new MetricsRegistry({ processMetrics: false });
    r.counter('a', 'a');
    expect(() => r.gauge('a', 'a')).toThrow(/already been registered/);
  });
});

describe('health and metrics endpoint', () => {
  let server: RunningHttpServer | undefined;
  afterEach(async () => server?.close());

  it('serves /livez, /readyz (503 with the reason) and /metrics with process metrics and the documented names', async () => {
    const metrics = createConsumerMetrics();
    metrics.events.inc(['kafka'], 3);
    metrics.ops.inc(['refresh', 'applied']);
    metrics.deadLetters.inc(['E_BAD_JSON']);
    metrics.batchDurationSeconds.observe(0.02, ['kafka']);
    metrics.sourceLagSeconds.set(1.5, ['kafka']);
    let reason: string | null = 'not yet joined the consumer group';
    server = await startHttpServer({
      port: 0,
      registry: metrics.registry,
      health: { live: () => true, notReadyReason: () => reason },
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('not yet joined');
    reason = null;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('cdc_cache_events_total{source="kafka"} 3');
    expect(text).toContain('cdc_cache_ops_total{type="refresh",outcome="applied"} 1');
    expect(text).toContain('cdc_cache_dead_letters_total{code="E_BAD_JSON"} 1');
    expect(text).toContain('cdc_cache_batch_duration_seconds_count{source="kafka"} 1');
    expect(text).toContain('cdc_cache_source_lag_seconds{source="kafka"} 1.5');
    // prom-client's default process metrics: event-loop lag, GC, heap, file descriptors, CPU.
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'process_open_fds',
    ])
      expect(text).toContain(`# TYPE ${name} `);
    for (const m of Object.values(SHARED_METRICS)) expect(text).toContain(`# TYPE ${m.name} ${m.type}`);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('consumer config', () => {
  it('takes flags over environment over file, with defaults', () => {
    const c = resolveConsumerConfig(
      {
        kafka: {
          brokers: ['file:1'],
          groupId: 'file-group',
          topics: ['t1'],
          partitionsConsumedConcurrently: 2,
        },
        target: 'engine',
      },
      { CDC_CACHE_KAFKA_BROKERS: 'env:1,env:2', CDC_CACHE_KAFKA_GROUP_ID: 'env-group' },
      { groupId: 'flag-group' },
    );
    expect(c.kafka.brokers).toEqual(['env:1', 'env:2']);
    expect(c.kafka.groupId).toBe('flag-group');
    expect(c.kafka.topics).toEqual(['t1']);
    expect(c.kafka.partitionsConsumedConcurrently).toBe(2);
    expect(c.kafka.deadLetterTopic).toBe('cdc-cache.dead-letters');
    expect(c.http).toEqual({ port: 9464, host: '127.0.0.1', enabled: true });
    expect(c.dynamodb.startPosition).toBe('TRIM_HORIZON');
  });

  it('passes SASL settings from the environment through', () => {
    const c = resolveConsumerConfig(
      { target: 'engine' },
      {
        CDC_CACHE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        CDC_CACHE_KAFKA_SASL_USERNAME: 'u',
        CDC_CACHE_KAFKA_SASL_PASSWORD: 'p',
        CDC_CACHE_KAFKA_SSL: 'true',
      },
    );
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.kafka.ssl).toBe(true);
    const iam = resolveConsumerConfig(
      { target: 'engine' },
      { CDC_CACHE_KAFKA_SASL_MECHANISM: 'aws-msk-iam', AWS_REGION: 'eu-west-1' },
    );
    expect(iam.kafka.sasl).toEqual({ mechanism: 'aws-msk-iam', region: 'eu-west-1' });
  });

  it('rejects bad values with the config path and the fix', () => {
    const t = { target: 'engine' };
    expect(() => resolveConsumerConfig({ ...t, kafka: { chunkSize: 0 } }, {})).toThrow(
      'consumer config: kafka.chunkSize: must be an integer >= 1',
    );
    expect(() => resolveConsumerConfig({ ...t, kafka: { topicPattern: '(' } }, {})).toThrow(
      /kafka.topicPattern: not a regular expression/,
    );
    expect(() => resolveConsumerConfig({ ...t, dynamodb: { startPosition: 'AT' } }, {})).toThrow(
      'consumer config: dynamodb.startPosition: must be one of TRIM_HORIZON, LATEST',
    );
    expect(() => resolveConsumerConfig({ ...t, log: { level: 'loud' } }, {})).toThrow(/log level "loud"/);
    expect(() => resolveConsumerConfig({ ...t, rules: 42 }, {})).toThrow(
      /rules: must be the path of the rules config/,
    );
    expect(() => resolveConsumerConfig(t, { CDC_CACHE_DYNAMODB_LEASE_STORE: 'disk' })).toThrow(
      'environment: CDC_CACHE_DYNAMODB_LEASE_STORE=disk: must be one of dynamodb, target, file',
    );
    expect(() => resolveConsumerConfig(t, { CDC_CACHE_TLS_REJECT_UNAUTHORIZED: 'no' })).toThrow(
      'environment: CDC_CACHE_TLS_REJECT_UNAUTHORIZED=no: must be true or false',
    );
  });

  it('finds the rules as the Lambda handlers do: --config > CDC_CACHE_RULES (inline) > CDC_CACHE_CONFIG > file', () => {
    const env = { CDC_CACHE_RULES: '{"rules":[]}', CDC_CACHE_CONFIG: 'env.json' };
    expect(
      resolveConsumerConfig({ target: 'engine', rules: 'file.json' }, env, { rules: 'flag.json' }).rules,
    ).toEqual({
      kind: 'path',
      path: 'flag.json',
      from: '--config',
    });
    expect(resolveConsumerConfig({ target: 'engine', rules: 'file.json' }, env).rules).toEqual({
      kind: 'inline',
      json: '{"rules":[]}',
      from: 'CDC_CACHE_RULES',
    });
    expect(
      resolveConsumerConfig({ target: 'engine', rules: 'file.json' }, { CDC_CACHE_CONFIG: 'env.json' }).rules,
    ).toEqual({
      kind: 'path',
      path: 'env.json',
      from: 'CDC_CACHE_CONFIG',
    });
    expect(resolveConsumerConfig({ target: 'engine', rules: 'file.json' }, {}).rules).toMatchObject({
      path: resolve('file.json'),
    });
    expect(resolveConsumerConfig({ target: 'engine' }, {}).rules).toBeUndefined();
  });

  it('still takes a path in CDC_CACHE_RULES, with a deprecation warning', () => {
    const c = resolveConsumerConfig({ target: 'engine' }, { CDC_CACHE_RULES: 'rules/cdc-cache.config.json' });
    expect(c.rules).toEqual({ kind: 'path', path: 'rules/cdc-cache.config.json', from: 'CDC_CACHE_RULES' });
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/deprecated; set CDC_CACHE_CONFIG=rules\/cdc-cache.config.json instead/);
    expect(
      resolveConsumerConfig({ target: 'engine' }, { CDC_CACHE_RULES: ' {"rules":[]}' }).warnings,
    ).toEqual([]);
  });

  it('reads target AUTH and TLS from the same variables as the Lambda handlers', () => {
    const c = resolveConsumerConfig(
      { target: 'valkey://file:1' },
      {
        CDC_CACHE_TARGET: 'valkeys://env:6380',
        CDC_CACHE_TARGET_USERNAME: 'cdc',
        CDC_CACHE_TARGET_PASSWORD: 'secret',
        CDC_CACHE_TLS_CA_FILE: '/ca.pem',
        CDC_CACHE_TLS_SERVERNAME: 'cache.internal',
      },
    );
    expect(c.target).toBe('valkeys://env:6380');
    expect(c.targetSettings).toMatchObject({
      username: 'cdc',
      password: 'secret',
      tlsCaFile: '/ca.pem',
      tlsServername: 'cache.internal',
      tlsRejectUnauthorized: true,
    });
    expect(resolveConsumerConfig({ target: 'valkey://file:1' }, {}).target).toBe('valkey://file:1');
  });

  it('keeps DynamoDB leases in a lease table, except beside an in-process engine (files)', () => {
    expect(resolveConsumerConfig({ target: 'engine' }, {}).dynamodb.leaseStore).toBe('file');
    expect(resolveConsumerConfig({}, { CDC_CACHE_TARGET: 'engine://h:6380' }).dynamodb.leaseStore).toBe(
      'dynamodb',
    );
    const d = resolveConsumerConfig({ target: 'valkey://h:1' }, {}).dynamodb;
    expect(d.leaseStore).toBe('dynamodb');
    expect(d.leaseTable).toBe('cdc-cache-leases');
    expect(
      resolveConsumerConfig(
        { target: 'valkey://h:1' },
        { CDC_CACHE_DYNAMODB_LEASE_TABLE: 'orders-leases' },
        { leaseTable: 'x-leases' },
      ).dynamodb.leaseTable,
    ).toBe('x-leases');
    expect(
      resolveConsumerConfig({ target: 'valkey://h:1' }, { CDC_CACHE_DYNAMODB_LEASE_TABLE: 'orders-leases' })
        .dynamodb.leaseTable,
    ).toBe('orders-leases');
    expect(() =>
      resolveConsumerConfig({ target: 'valkey://h:1' }, { CDC_CACHE_DYNAMODB_LEASE_TABLE: 'a b' }),
    ).toThrow(/CDC_CACHE_DYNAMODB_LEASE_TABLE.*must be a DynamoDB table name/);
    const c = resolveConsumerConfig(
      { target: 'valkey://h:1', dynamodb: { leaseStore: 'target' } },
      { CDC_CACHE_DYNAMODB_LEASE_STORE: 'file' },
    );
    expect(c.dynamodb.leaseStore).toBe('file');
    expect(
      resolveConsumerConfig(
        { target: 'engine', dynamodb: { leaseStore: 'file' } },
        {},
        { leaseStore: 'target' },
      ).dynamodb.leaseStore,
    ).toBe('target');
  });
});

describe('logger, backoff, progress', () => {
  it('writes one JSON object per line (the logging contract) with child fields, error stack and cause', () => {
    const lines: string[] = [];
    const log = createJsonLogger(
      { level: 'info', write: (l) => lines.push(l), now: () => 0 },
      { service: 's' },
    );
    log.debug('hidden');
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    log.child({ partition: 3 }).warn('retrying', {
      error: Object.assign(new Error('down', { cause }), { code: 'E_TARGET', retriable: true }),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      timestamp: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      message: 'retrying',
      service: 's',
      pid: process.pid,
      partition: 3,
      error: {
        name: 'Error',
        message: 'down',
        code: 'E_TARGET',
        retriable: true,
        cause: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:6379' },
      },
    });
    expect(line.error.stack).toMatch(/^Error: down\n\s+at /);
    expect(line.error.cause.stack).toMatch(/ECONNREFUSED/);
    expect(typeof line.hostname).toBe('string');
  });

  it('redacts credentials in messages, fields, error messages and causes', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ write: (l) => lines.push(l) });
    log.error('cannot open valkeys://cdc:hunter2@cache:6379', {
      target: 'valkey://:hunter2@h:1',
      sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' },
      error: new Error('AUTH failed for rediss://app:hunter2@h:1', { cause: new Error('password=hunter2') }),
    });
    expect(lines[0]).not.toContain('hunter2');
    const line = JSON.parse(lines[0]!);
    expect(line.message).toBe('cannot open valkeys://cdc:***@cache:6379');
    expect(line.target).toBe('valkey://:***@h:1');
    expect(line.sasl).toBe('***');
    expect(line.error.cause.message).toBe('password=***');
  });

  it('redacts a URL password that holds an unescaped "@" whole', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ write: (l) => lines.push(l) });
    log.error('cannot open valkey://app:s3cret@PW@cache:6379 now', { target: 'valkey://app:s3cret@PW@h:1' });
    expect(lines[0]).not.toContain('PW');
    expect(JSON.parse(lines[0]!).message).toBe('cannot open valkey://app:***@cache:6379 now');
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffDelay(1, { baseDelayMs: 100, maxDelayMs: 1000 }, () => 0)).toBe(50);
    expect(backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 1000 }, () => 1)).toBe(400);
    expect(backoffDelay(20, { baseDelayMs: 100, maxDelayMs: 1000 }, () => 1)).toBe(1000);
  });

  it('formats the progress line with rate, lag and ETA', () => {
    expect(formatProgress({ events: 1200, lag: 3000, deadLetters: 1 }, 1500)).toBe(
      '1200 events | 1.5k/s | lag 3000 eta 2s | 1 dead letters',
    );
    expect(formatProgress({ events: 5, lag: 0, deadLetters: 0, note: 'x' }, 2)).toBe(
      '5 events | 2/s | lag 0 caught up | 0 dead letters | x',
    );
  });
});
