/**
 * Bad consumer configuration is refused at the boundary, before any connection: each input (the
 * consumer config file, the environment, the flags) with a typo, a wrong type and a missing required
 * key gives one line naming the source, the path and the fix. Regression for issue #15: a misspelt
 * `"targt"` fell back to the in-process engine and committed a whole topic's offsets there;
 * `"groupID"` was ignored and the consumer joined the default group.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConsumerConfig } from '../../../../consumers/runtime/consumer-config.ts';
import { ConfigError } from '../../../../core/errors.ts';
import { ROOT, runCli } from '../../../support/cli.ts';

const error = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('consumer config file', () => {
  const src = { name: 'consumer.json' };
  it('refuses an unknown option with a did-you-mean', () => {
    const e = error(() =>
      resolveConsumerConfig({ target: 'engine', kafka: { groupID: 'orders-cache' } }, {}, {}, src),
    );
    expect(e.message).toMatch(
      /^consumer.json: kafka.groupID: unknown option \(did you mean "groupId"\?\); known: /,
    );
    expect(e.code).toBe('E_CONFIG_UNKNOWN_OPTION');
    expect(e.path).toBe('kafka.groupID');
    expect(e.message).not.toContain('\n');
    expect(error(() => resolveConsumerConfig({ target: 'engine', htpp: {} }, {}, {}, src)).message).toMatch(
      /^consumer.json: htpp: unknown option \(did you mean "http"\?\)/,
    );
  });

  it('refuses "targt" (no fallback to the in-process engine)', () => {
    const e = error(() => resolveConsumerConfig({ targt: 'valkey://cache:6379' }, {}, {}, src));
    expect(e.message).toMatch(/^consumer.json: targt: unknown option \(did you mean "target"\?\)/);
  });

  it('refuses a missing target: a consumer has no default target', () => {
    const e = error(() => resolveConsumerConfig({ kafka: { brokers: ['h:1'] } }, {}, {}, src));
    expect(e.code).toBe('E_CONFIG_MISSING');
    expect(e.message).toMatch(/^consumer.json: target: missing: .*--target, CDC_CACHE_TARGET or "target"/);
  });

  it('names the path and the expected type of a wrong type', () => {
    const e = error(() => resolveConsumerConfig({ target: 'engine', kafka: { brokers: 9092 } }, {}, {}, src));
    expect(e.code).toBe('E_CONFIG_TYPE');
    expect(e.message).toBe(
      'consumer.json: kafka.brokers: must be a list of "host:port" (or one comma-separated string), got 9092',
    );
    expect(
      error(() => resolveConsumerConfig({ target: 'engine', http: { port: '80' } }, {}, {}, src)).message,
    ).toBe('consumer.json: http.port: must be an integer >= 0, got "80"');
  });

  it('accepts brokers as one comma-separated string (documented), and checks each', () => {
    const c = resolveConsumerConfig({ target: 'engine', kafka: { brokers: 'h1:9092, h2:9092' } }, {});
    expect(c.kafka.brokers).toEqual(['h1:9092', 'h2:9092']);
    expect(
      error(() => resolveConsumerConfig({ target: 'engine', kafka: { brokers: 'h1:9092,h2' } }, {}, {}, src))
        .message,
    ).toBe('consumer.json: kafka.brokers: "h2" is not "host:port"');
  });

  it('resolves relative paths against the file that names them', () => {
    const c = resolveConsumerConfig(
      {
        target: 'engine',
        rules: 'rules.json',
        dynamodb: { stateDir: 'state', deadLetterFile: '/abs/dl.jsonl' },
      },
      {},
      {},
      { name: '/etc/cdc/consumer.json', dir: '/etc/cdc' },
    );
    expect(c.rules).toEqual({ kind: 'path', path: '/etc/cdc/rules.json', from: 'rules (consumer config)' });
    expect(c.dynamodb.stateDir).toBe('/etc/cdc/state');
    expect(c.dynamodb.deadLetterFile).toBe('/abs/dl.jsonl');
  });
});

describe('environment and flags', () => {
  it('refuses CDC_CACHE_TARGET=valky://x with the variable, the value and the fix', () => {
    const e = error(() => resolveConsumerConfig({}, { CDC_CACHE_TARGET: 'valky://x' }));
    expect(e.message).toBe(
      'environment: CDC_CACHE_TARGET=valky://x: unknown target scheme "valky://" (did you mean "valkey"?); use engine, engine://host:port, valkey://host:port or valkeys://host:port',
    );
    expect(e.code).toBe('E_CONFIG_VALUE');
  });

  it('refuses a wrong value and a missing companion variable', () => {
    expect(
      error(() => resolveConsumerConfig({ target: 'engine' }, { CDC_CACHE_HTTP_PORT: 'http' })).message,
    ).toBe('environment: CDC_CACHE_HTTP_PORT=http: must be an integer >= 0');
    expect(
      error(() => resolveConsumerConfig({ target: 'engine' }, { CDC_CACHE_KAFKA_SASL_MECHANISM: 'plain' }))
        .message,
    ).toMatch(/^environment: CDC_CACHE_KAFKA_SASL_USERNAME: missing/);
    expect(
      error(() => resolveConsumerConfig({ target: 'engine' }, { CDC_CACHE_KAFKA_SASL_MECHANISM: 'scram' }))
        .message,
    ).toBe(
      'environment: CDC_CACHE_KAFKA_SASL_MECHANISM=scram: must be one of plain, scram-sha-256, scram-sha-512, aws-msk-iam, oauthbearer',
    );
  });

  it('names the flag in a bad flag value', () => {
    expect(error(() => resolveConsumerConfig({ target: 'engine' }, {}, { httpPort: 'x' })).message).toBe(
      'command line: --http-port=x: must be an integer >= 0',
    );
    expect(error(() => resolveConsumerConfig({}, {}, { target: 'engin' })).message).toMatch(
      /^command line: --target=engin: "engin" is not a target \(did you mean "engine"\?\)/,
    );
  });
});

describe('cdc-cache consume refuses bad config before connecting', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  const dir = mkdtempSync(join(tmpdir(), 'cdc-consumer-config-'));
  const rules = join(ROOT, 'examples', 'cdc-cache.config.json');

  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const cases: [string, Record<string, unknown>, Record<string, string>, RegExp][] = [
    [
      'a typo ("targt")',
      { targt: 'valkey://127.0.0.1:PORT', kafka: { brokers: ['127.0.0.1:PORT'], topics: ['t'] } },
      {},
      /^cdc-cache consume: .*consumer.json: targt: unknown option \(did you mean "target"\?\)/,
    ],
    [
      'a wrong type (topics: 5)',
      { target: 'valkey://127.0.0.1:PORT', kafka: { brokers: ['127.0.0.1:PORT'], topics: 5 } },
      {},
      /^cdc-cache consume: .*consumer.json: kafka.topics: must be a list of topic names/,
    ],
    [
      'a missing target',
      { kafka: { brokers: ['127.0.0.1:PORT'], topics: ['t'] } },
      {},
      /^cdc-cache consume: .*consumer.json: target: missing/,
    ],
    [
      'an invalid environment value',
      { kafka: { brokers: ['127.0.0.1:PORT'], topics: ['t'] } },
      { CDC_CACHE_TARGET: 'valky://127.0.0.1:PORT' },
      /^cdc-cache consume: environment: CDC_CACHE_TARGET=valky:\/\/127.0.0.1:\d+: unknown target scheme/,
    ],
  ];
  it.each(cases)(
    '%s: exit 1, one line, no connection',
    async (_name, body, env, expected) => {
      const file = join(dir, 'consumer.json');
      writeFileSync(file, JSON.stringify(body).replaceAll('PORT', String(port)));
      const extra = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, v.replace('PORT', String(port))]),
      );
      const { code, stderr } = await runCli(
        ['consume', 'kafka', '--config', rules, '--consumer-config', file, '--no-http', '--no-progress'],
        undefined,
        { CDC_CACHE_TARGET: '', CDC_CACHE_CONFIG: '', CDC_CACHE_RULES: '', ...extra },
      );
      expect(code).toBe(1);
      expect(stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(expected);
      expect(connections).toBe(0);
      // A real process (its environment is part of the input): a Node start and the consume verb's
      // imports, 1–3 s on a quiet machine and past the default 5 s at load 25.
    },
    30_000,
  );
});
