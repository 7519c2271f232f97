/**
 * Regression test for commit e101961: `@platformatic/kafka` emits 'error' on the consumer itself
 * when a rejoin it started after a heartbeat error fails (consumer.js: the heartbeat answers
 * REBALANCE_IN_PROGRESS, the library calls joinGroup, and a failed join is `emit('error')`). An
 * EventEmitter 'error' with no listener is thrown, which killed a consumer process in CI
 * ("Connection closed"). The adapter (consumers/kafka/platformatic/stream-consumer.ts) now listens
 * and reports it to the crash listeners as `(error, true)`.
 *
 * A broker kill alone never reaches that path (kafka-broker-restart.test.ts: the fetch fails first
 * and a heartbeat that cannot connect is not a rejoin error), so the test holds a rejoin in flight
 * on a real broker first: on a private broker (test/support/private-kafka.ts), member A (a process
 * of its own, test/support/group-member.ts) shares a group with member C, which is then SIGSTOPped
 * (it neither heartbeats nor leaves); member D joins, the coordinator starts a rebalance, A's next
 * heartbeat gets REBALANCE_IN_PROGRESS and A's JoinGroup waits for C. The broker is SIGKILLed
 * while that JoinGroup waits: it fails, the library retries and gives up, and emits 'error'.
 * Without the listener, A's process dies of it; with it, A reports the failed join, lives, and
 * consumes again once the broker is back. Checked by removing the listener: A exits with
 * "Unhandled 'error' event … NetworkError: Connection closed" and this test fails.
 *
 * It also pins a stall found with it: after that failure the library schedules no heartbeat and
 * never joins again, so A went on fetching only partition 0 (its share beside C) and partition 1
 * went to nobody — 150 s without a record of it, no error. The adapter now rejoins after the
 * 'error' (stream-consumer.ts `rejoin`); without that, this test fails at "A applied the 10 records".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConsumerPort } from '../../../consumers/kafka/kafka-port.ts';
import { createPlatformaticClient } from '../../../consumers/kafka/platformatic-client.ts';
import { waitFor } from '../../support/consumers.ts';
import { type PrivateKafka, startPrivateKafka } from '../../support/private-kafka.ts';

const MEMBER = join(import.meta.dirname, '../../support/group-member.ts');
const PARTITIONS = 2;
const topic = `e2e-rejoin-error-${Date.now()}`;
const group = `${topic}-group`;

let broker: PrivateKafka;
let kafka: Kafka;
const members: Member[] = [];
let d: KafkaConsumerPort | undefined;

/** A group-member.ts child and the JSON lines it printed. */
interface Member {
  readonly child: ChildProcess;
  readonly lines: { event: string; [k: string]: unknown }[];
  /** Set once the process exited: its code or signal, and what it wrote on stderr. */
  exit: string | null;
  stderr: string;
}

function startMember(name: string, sessionMs: number): Member {
  const child = spawn(process.execPath, [MEMBER], {
    env: {
      ...process.env,
      MEMBER_BROKERS: broker.broker,
      MEMBER_TOPIC: topic,
      MEMBER_GROUP: group,
      MEMBER_SESSION_MS: String(sessionMs),
      MEMBER_HEARTBEAT_MS: '500',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const m: Member = { child, lines: [], exit: null, stderr: '' };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    const parts = (partial + t).split('\n');
    partial = parts.pop()!;
    for (const l of parts) if (l.startsWith('{')) m.lines.push(JSON.parse(l));
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    m.stderr += t;
  });
  child.once('exit', (code, signal) => {
    m.exit = `${name} exited (${code ?? signal})`;
  });
  members.push(m);
  return m;
}

/** Waits until `m` printed a line `match` accepts; fails at once if `m` exits first. */
async function waitLine(
  m: Member,
  what: string,
  match: (l: Member['lines'][number]) => boolean,
  timeoutMs = 60_000,
): Promise<Member['lines'][number]> {
  let found: Member['lines'][number] | undefined;
  await waitFor(
    what,
    () => {
      found = m.lines.find(match);
      if (found === undefined && m.exit !== null) throw new Error(`${m.exit}: ${m.stderr}`);
      return found !== undefined;
    },
    timeoutMs,
    50,
  );
  if (found === undefined) throw new Error(`${what}: ${m.exit ?? 'not seen'}: ${m.stderr}`);
  return found;
}

const count = (m: Member, event: string) => m.lines.filter((l) => l.event === event).length;

beforeAll(async () => {
  broker = await startPrivateKafka();
  kafka = new Kafka({
    brokers: [broker.broker],
    clientId: 'e2e-rejoin-error',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
});

afterAll(async () => {
  for (const m of members) if (m.exit === null) m.child.kill('SIGKILL');
  await d?.stop().catch(() => {});
  await d?.disconnect().catch(() => {});
  await broker?.close();
});

describe("platformatic adapter: a rejoin that fails emits the consumer's own 'error'", () => {
  it('is reported as a crash with restart, the process lives on and consumes after the broker is back', {
    timeout: 300_000,
  }, async () => {
    const a = startMember('A', 10_000);
    await waitLine(a, 'A joined the group', (l) => l.event === 'joined');
    // C: a member with a long session, so the coordinator waits for it in the next rebalance.
    const c = startMember('C', 30_000);
    await waitLine(c, 'C joined the group', (l) => l.event === 'joined');
    await waitFor('A rejoined beside C', () => count(a, 'joined') >= 2, 60_000, 50);
    c.child.kill('SIGSTOP');

    // D joins (in this process): a rebalance starts; A's next heartbeat answers REBALANCE_IN_PROGRESS
    // and A sends a JoinGroup that the coordinator holds until C's session (30 s) runs out.
    const joinsBefore = count(a, 'joinGroup');
    d = createPlatformaticClient({ brokers: [broker.broker] }).consumer({
      groupId: group,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
    });
    d.onCrash(() => {});
    void (async () => {
      await d!.connect();
      await d!.subscribe([topic], true);
      await d!.run({ partitionsConsumedConcurrently: 1, eachBatch: async () => {} });
    })().catch(() => {}); // its join fails with the broker: not what this test is about
    await waitLine(a, 'A rejoining after its heartbeat', () => count(a, 'joinGroup') > joinsBefore, 20_000);
    // Let the JoinGroup reach the coordinator, which holds it (C does not answer), then kill the broker.
    await new Promise((r) => setTimeout(r, 2000));
    expect(count(a, 'joined')).toBe(2); // the rejoin is still waiting
    await broker.kill();

    // The failed join reaches A's crash listeners (restart: true) instead of killing the process.
    const failed = await waitLine(
      a,
      "A's failed rejoin reported",
      (l) => l.event === 'crash' && /joinGroup/.test(String(l.message)),
      60_000,
    );
    expect(failed.restart).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.exit, a.stderr).toBeNull();

    // The broker comes back; C and D are gone: A rejoins and consumes what is produced now.
    c.child.kill('SIGKILL');
    await d.stop().catch(() => {});
    await d.disconnect().catch(() => {});
    d = undefined;
    await broker.start();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % PARTITIONS, value: `r${i}` })),
    });
    await producer.disconnect();
    await waitFor(
      'A applied the 10 records produced after the restart',
      () => count(a, 'applied') >= 10,
      150_000,
      100,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; A printed:\n${a.lines.map((l) => JSON.stringify(l)).join('\n')}`);
    });
    expect(a.exit, a.stderr).toBeNull();
    expect(a.lines.filter((l) => l.event === 'crash' && l.restart === false)).toEqual([]);

    a.child.kill('SIGTERM');
    await waitFor('A stopped', () => a.exit !== null, 30_000, 50);
    expect(a.exit).toBe('A exited (0)');
  });
});
