/**
 * A private Kafka broker for fault tests: the harness's Kafka distribution (infra/local/lib/kafka.sh
 * installs it under $CDC_CACHE_HOME/dist) started as a second single-node KRaft broker on free ports,
 * with a data directory of its own, so a test may SIGKILL and restart it without touching the shared
 * broker every other test uses. Restarting keeps the data directory (as a crashed broker's host would).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './own-valkey.ts';

const HARNESS = join(import.meta.dirname, '..', '..', 'infra', 'local');
/** Same fixed cluster id as the harness's broker (base64url of 16 bytes); any valid id would do. */
const CLUSTER_ID = 'Y2RjLWNhY2hlLXByaXZ0MQ';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** The harness's Kafka jars (installed by `bash infra/local/services.sh up kafka`). */
function kafkaLib(): string {
  const version = /^KAFKA_VERSION=(\S+)/m.exec(readFileSync(join(HARNESS, 'versions.env'), 'utf8'))?.[1];
  const home = process.env.CDC_CACHE_HOME ?? join(homedir(), '.cache', 'cdc-cache');
  const lib = join(home, 'dist', `kafka-${version}`, 'lib');
  if (!existsSync(lib))
    throw new Error(`no Kafka distribution at ${lib}: run "bash infra/local/services.sh up kafka" once`);
  return lib;
}

/** A broker the test owns. */
export interface PrivateKafka {
  /** `127.0.0.1:PORT`. */
  readonly broker: string;
  /** SIGKILLs the broker (no clean shutdown, as a crashed host). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it serves. */
  start(): Promise<void>;
  /** Kills it and removes its data directory. */
  close(): Promise<void>;
}

/** Formats a fresh data directory and starts a private broker; resolves once it serves. */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const lib = kafkaLib();
  const [port, controller] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-kafka-'));
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${join(dir, 'data')}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
`,
  );
  const java = [
    '-Dcdc.cache.service=private-kafka-test',
    '-Xms64m',
    '-Xmx384m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    `-Dlog4j2.configurationFile=${join(HARNESS, 'conf', 'log4j2.properties')}`,
    '-cp',
    `${lib}/*`,
  ];
  const format = spawnSync(
    'java',
    [...java, 'kafka.tools.StorageTool', 'format', '--ignore-formatted', '-t', CLUSTER_ID, '-c', props],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (format.status !== 0)
    throw new Error(`formatting the private broker failed: ${format.stderr}${format.stdout}`);

  const log = join(dir, 'kafka.log');
  let child: ChildProcess | undefined;
  let starts = 1; // the log holds "Kafka Server started" once per start: wait for the next one
  const start = async () => {
    const fd = openSync(log, 'a');
    child = spawn('java', [...java, 'kafka.Kafka', props], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const self = child;
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (self.exitCode !== null) throw new Error(`private broker exited (${self.exitCode}); see ${log}`);
      if ((await portOpen(port)) && readFileSync(log, 'utf8').split('Kafka Server started').length > starts)
        break;
      if (Date.now() > deadline) throw new Error(`private broker not up within 120 s; see ${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    starts++;
  };
  const kill = async () => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    broker: `127.0.0.1:${port}`,
    kill,
    start,
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
