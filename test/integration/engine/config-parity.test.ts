/**
 * CONFIG SET value checks against a real valkey-server 8: every mutable Valkey parameter is sent
 * the same bad and borderline values (words, negatives, overflow, memory units, yes/no in capitals,
 * percentages, empty) and must answer byte for byte as Valkey does, then echo the same canonical
 * value; plus multi-pair atomicity, the order in which name errors win, aliases, name case and the
 * parameters the engine acts on.
 */
import { describe, it } from 'vitest';
import { VALKEY_CONFIG_DEFAULTS } from '../../../engine/server/valkey-config-defaults.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const compare = (steps: string[]) => compareSteps(servers.valkey.port, servers.engine.port, steps);

/**
 * Not probed by the loop: the ones that rebind or lock out (port, bind, tls-port, requirepass), the
 * engine's own default eviction policy (allkeys-lru), the limits it caps below Valkey's (maxmemory at its heap share, proto-max-bulk-len and
 * client-query-buffer-limit at what a V8 string holds; maxmemory-clients it resolves to bytes: own
 * test below), and those whose accepted probes would act on the Valkey process itself (appendonly
 * starts AOF, oom-score-adj writes /proc).
 */
const OWN_TESTS = new Set([
  'port',
  'bind',
  'tls-port',
  'requirepass',
  'maxmemory',
  'maxmemory-clients',
  'maxmemory-policy',
  'proto-max-bulk-len',
  'client-query-buffer-limit',
  'appendonly',
  'oom-score-adj',
  'oom-score-adj-values',
]);

const PROBES = ['zz', '-1', '99999999999999999999', '1kb', 'YES', '5%', '', '007', '3'];

const mutable = VALKEY_CONFIG_DEFAULTS.filter(([name, , m]) => m === 'm' && !OWN_TESTS.has(name));

/** `CONFIG SET name v` for each probe, CONFIG GET, then the default back. */
function probeSteps(name: string, dflt: string): string[] {
  const arg = (v: string) => v.replaceAll(' ', '\\s');
  return [
    ...PROBES.map((v) => `CONFIG SET ${name} ${arg(v)}`),
    `CONFIG GET ${name}`,
    `CONFIG SET ${name} ${arg(dflt)}`,
  ];
}

describe('CONFIG SET checks values as Valkey 8 does, byte for byte', () => {
  it(`every mutable parameter (${mutable.length}) answers the same probes alike`, async () => {
    const steps: string[] = [];
    for (const [name, dflt] of mutable) steps.push(...probeSteps(name, dflt));
    await compare(steps);
  });

  it('typed values: units, booleans, enums, flags, specials and their canonical echo', async () => {
    await compare([
      'CONFIG SET hash-max-listpack-value 1KB',
      'CONFIG GET hash-max-listpack-value',
      'CONFIG SET hash-max-listpack-value 64',
      'CONFIG SET activerehashing NO',
      'CONFIG GET activerehashing',
      'CONFIG SET activerehashing yes',
      'CONFIG SET activerehashing 1',
      'CONFIG SET loglevel WARNING',
      'CONFIG GET loglevel',
      'CONFIG SET loglevel notice',
      'CONFIG SET shutdown-on-sigint now\\snosave',
      'CONFIG GET shutdown-on-sigint',
      'CONFIG SET shutdown-on-sigint save\\snosave',
      'CONFIG SET shutdown-on-sigint save\\s\\snow',
      'CONFIG SET shutdown-on-sigint default',
      'CONFIG GET shutdown-on-sigint',
      'CONFIG SET hz 1000',
      'CONFIG GET hz',
      'CONFIG SET hz 0',
      'CONFIG GET hz',
      'CONFIG SET hz 10',
      'CONFIG SET maxmemory-samples 0',
      'CONFIG SET maxmemory-samples 65',
      'CONFIG SET maxmemory-samples +5',
      'CONFIG SET maxclients 0',
      'CONFIG SET maxclients -5',
      'CONFIG SET list-max-listpack-size -2147483649',
      'CONFIG SET slowlog-log-slower-than -2',
      'CONFIG SET slowlog-log-slower-than -1',
      'CONFIG GET slowlog-log-slower-than',
      'CONFIG SET slowlog-log-slower-than 10000',
      'CONFIG SET save 3600',
      'CONFIG SET save 0\\s1',
      'CONFIG SET save 3600\\s-1',
      'CONFIG SET save 3600\\s1\\s300\\s100',
      'CONFIG GET save',
      'CONFIG SET save ',
      'CONFIG GET save',
      'CONFIG SET latency-tracking-info-percentiles 50\\s99.90',
      'CONFIG GET latency-tracking-info-percentiles',
      'CONFIG SET latency-tracking-info-percentiles 101',
      'CONFIG SET latency-tracking-info-percentiles 50\\sx',
      'CONFIG SET latency-tracking-info-percentiles 50\\s99\\s99.9',
      'CONFIG SET oom-score-adj-values 0\\s200',
      'CONFIG SET oom-score-adj-values 0\\s200\\s3000',
      'CONFIG SET oom-score-adj-values a\\sb\\sc',
      'CONFIG SET notify-keyspace-events Zq',
      'CONFIG SET notify-keyspace-events KEA',
      'CONFIG GET notify-keyspace-events',
      'CONFIG SET notify-keyspace-events ',
      'CONFIG SET cluster-announce-hostname bad_host',
      'CONFIG SET cluster-announce-hostname good-host.example',
      'CONFIG GET cluster-announce-hostname',
      'CONFIG SET cluster-announce-hostname ',
      'CONFIG SET cluster-announce-human-nodename a{b}',
      'CONFIG SET proc-title-template {nope}',
      'CONFIG SET proc-title-template {{x}}',
      'CONFIG SET proc-title-template \\s',
      'CONFIG SET proc-title-template {title}\\s{listen-addr}\\s{server-mode}',
      'CONFIG SET client-output-buffer-limit normal\\s1mb',
      'CONFIG SET client-output-buffer-limit nobody\\s1\\s1\\s1',
      'CONFIG SET client-output-buffer-limit slave\\s1mb\\s2kb\\s3\\spubsub\\s32mb\\s8mb\\s60',
      'CONFIG GET client-output-buffer-limit',
      'CONFIG SET client-output-buffer-limit replica\\s268435456\\s67108864\\s60\\spubsub\\s33554432\\s8388608\\s60',
      'CONFIG GET client-output-buffer-limit',
      'CONFIG SET timeout -1',
      'CONFIG SET timeout 2147483648',
      'CONFIG SET timeout x',
      'CONFIG SET tracking-table-max-keys -1',
    ]);
  });

  it('several pairs are one change: a bad value anywhere applies none; name errors win in order', async () => {
    await compare([
      'CONFIG SET maxmemory-samples 7 loglevel bogus',
      'CONFIG GET maxmemory-samples',
      'CONFIG SET maxmemory-samples 7 loglevel warning',
      'CONFIG GET maxmemory-samples',
      'CONFIG GET loglevel',
      'CONFIG SET maxmemory-samples 5 loglevel notice',
      'CONFIG SET maxmemory-samples x no-such-param 1',
      'CONFIG SET no-such-param 1 daemonize yes',
      'CONFIG SET daemonize yes no-such-param 1',
      'CONFIG SET hz 5 HZ 6',
      'CONFIG SET hz x hz 6',
      'CONFIG SET dir /tmp',
      'CONFIG SET dbfilename x.rdb',
      'CONFIG SET hz 5 hz',
      'CONFIG SET hz',
      'CONFIG SET MAXMEMORY-SAMPLES x',
      'CONFIG SET Daemonize yes',
      'CONFIG SET No-Such 1',
      'CONFIG GET MAXMEMORY-SAMPLES',
      '~CONFIG GET Maxmemory-[se]*',
      'CONFIG SET hash-max-ziplist-entries 100',
      'CONFIG GET hash-max-listpack-entries',
      '~CONFIG GET hash-max-*-entries',
      'CONFIG SET hash-max-listpack-entries 200 hash-max-ziplist-entries 300',
      'CONFIG GET hash-max-ziplist-entries',
      'CONFIG SET hash-max-ziplist-entries x',
      'CONFIG SET slave-priority 7',
      'CONFIG GET replica-priority',
      'CONFIG SET hash-max-listpack-entries 512 replica-priority 100',
    ]);
  });

  it('the parameters the engine acts on check their values as Valkey does', async () => {
    await compare([
      'CONFIG SET maxmemory abc',
      'CONFIG SET maxmemory -1',
      'CONFIG SET maxmemory 1x',
      'CONFIG SET maxmemory 200mb',
      'CONFIG GET maxmemory',
      'CONFIG SET maxmemory 200MB maxmemory-policy nonsense',
      'CONFIG SET maxmemory-policy ALLKEYS-LRU',
      'CONFIG GET maxmemory-policy',
      'CONFIG SET maxmemory-policy noeviction',
      'CONFIG SET maxmemory-clients 101%',
      'CONFIG SET maxmemory-clients -5%',
      'CONFIG SET maxmemory-clients x',
      'CONFIG SET maxmemory-clients 0',
      'CONFIG SET proto-max-bulk-len x',
      'CONFIG SET proto-max-bulk-len 2MB',
      'CONFIG GET proto-max-bulk-len',
      'CONFIG SET proto-max-bulk-len 536870888',
      'CONFIG SET client-query-buffer-limit -1',
      'CONFIG SET client-query-buffer-limit 1gb',
      'CONFIG SET appendonly maybe',
      'CONFIG SET oom-score-adj maybe',
      'CONFIG SET tls-port x',
      'CONFIG SET tls-port 70000',
    ]);
  });
});
