/**
 * One warm execution environment for the per-batch benchmark (bench/lambda/per-batch.ts): imports
 * the handler bundle (CDC_BENCH_BUNDLE; the target and rules come from CDC_CACHE_* as in Lambda),
 * and, side by side in the same process, the peer: decode the same records with JSON.parse (Kafka:
 * base64 first) and DEL their cache keys in one pipeline over one iovalkey connection to the same
 * server. After warm-up, runs ours and the peer alternately, each on a fresh batch with newer
 * versions, and prints `{ ours: ms[], peer: ms[] }` on fd 3 (stdout carries the handler's logs).
 *
 *   node bench/lambda/per-batch-child.ts '<json: { kind, host, port, records, iterations, warmup }>'
 */
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Valkey } from 'iovalkey';

interface Job {
  kind: 'dynamodb' | 'kafka';
  host: string;
  port: number;
  records: number;
  iterations: number;
  warmup: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const mod = (await import(pathToFileURL(process.env.CDC_BENCH_BUNDLE!).href)) as {
  handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;
};
const KEYS = 5_000;
const ARN =
  'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';

/** DynamoDB Streams event (MODIFY, NEW_AND_OLD_IMAGES, as the AWS docs' example) of `n` records. */
function dynamoDbBatch(iteration: number, n: number): unknown {
  return {
    Records: Array.from({ length: n }, (_, j) => {
      const i = iteration * n + j;
      const id = String(i % KEYS);
      return {
        eventID: `e${i}`,
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          Keys: { Id: { N: id } },
          NewImage: { Message: { S: `changed ${i}` }, Id: { N: id } },
          OldImage: { Message: { S: `before ${i}` }, Id: { N: id } },
          ApproximateCreationDateTime: 1428537600 + Math.floor(i / 1000),
          SequenceNumber: String(4421584500000000017450439091n + BigInt(i)),
          SizeBytes: 59,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
        eventSourceARN: ARN,
      };
    }),
  };
}

/** MSK event of `n` Debezium (PostgreSQL, JSON without schemas) updates on one partition. */
function kafkaBatch(iteration: number, n: number): unknown {
  const topic = 'dbserver1.public.customers';
  return {
    eventSource: 'aws:kafka',
    eventSourceArn:
      'arn:aws:kafka:us-east-1:123456789012:cluster/bench/abcd1234-abcd-cafe-abab-9876543210ab-4',
    bootstrapServers: 'b-1.bench.kafka.us-east-1.amazonaws.com:9092',
    records: {
      [`${topic}-0`]: Array.from({ length: n }, (_, j) => {
        const i = iteration * n + j;
        const id = i % KEYS;
        const lsn = 24023128 + i * 2;
        const ts = 1732262400000 + i;
        const row = { id, first_name: 'Anne', last_name: 'Kretchmar', email: `anne.${id}@acme.com` };
        const value = {
          before: { ...row, first_name: 'Ann' },
          after: row,
          source: {
            version: '3.0.1.Final',
            connector: 'postgresql',
            name: 'dbserver1',
            ts_ms: ts,
            snapshot: 'false',
            db: 'inventory',
            sequence: `["${lsn - 1}","${lsn}"]`,
            schema: 'public',
            table: 'customers',
            txId: 556 + i,
            lsn,
            xmin: null,
          },
          op: 'u',
          ts_ms: ts + 5,
        };
        return {
          topic,
          partition: 0,
          offset: i,
          timestamp: ts + 6,
          timestampType: 'CREATE_TIME',
          key: Buffer.from(JSON.stringify({ id })).toString('base64'),
          value: Buffer.from(JSON.stringify(value)).toString('base64'),
          headers: [],
        };
      }),
    },
  };
}

const peerClient = new Valkey({ host: job.host, port: job.port, lazyConnect: true });
await peerClient.connect();

/** The peer: decode the records and DEL the same keys the rules name, in one pipeline. */
async function peer(event: unknown): Promise<void> {
  const keys: string[] = [];
  if (job.kind === 'kafka') {
    const records = (event as { records: Record<string, { value: string }[]> }).records;
    for (const list of Object.values(records)) {
      for (const r of list) {
        const v = JSON.parse(Buffer.from(r.value, 'base64').toString('utf8')) as {
          after: { id: number; email: string } | null;
          before: { id: number; email: string } | null;
        };
        const row = v.after ?? v.before!;
        keys.push(`customer:${row.id}`, `customer:email:${row.email}`);
      }
    }
  } else {
    for (const r of (event as { Records: { dynamodb: { Keys: { Id: { N: string } } } }[] }).Records) {
      keys.push(`message:${r.dynamodb.Keys.Id.N}`);
    }
  }
  const p = peerClient.pipeline();
  for (const k of keys) p.del(k);
  const res = await p.exec();
  if (res === null || res.some(([err]) => err !== null)) throw new Error('peer pipeline failed');
}

const make = job.kind === 'kafka' ? kafkaBatch : dynamoDbBatch;
const end = Date.now() + 600_000;
const context = {
  awsRequestId: 'bench',
  functionName: 'bench',
  getRemainingTimeInMillis: () => end - Date.now(),
};
async function ours(event: unknown): Promise<void> {
  const r = await mod.handler(event, context);
  if (r.batchItemFailures.length > 0)
    throw new Error(`handler reported ${r.batchItemFailures.length} failures`);
}

const oursMs: number[] = [];
const peerMs: number[] = [];
let iteration = 0;
for (let i = 0; i < job.warmup + job.iterations; i++) {
  // Both sides get their own fresh batch (newer versions than any before); order alternates.
  const a = make(iteration++, job.records);
  const b = make(iteration++, job.records);
  const timeOurs = async () => {
    const t0 = performance.now();
    await ours(a);
    return performance.now() - t0;
  };
  const timePeer = async () => {
    const t0 = performance.now();
    await peer(b);
    return performance.now() - t0;
  };
  let o: number;
  let p: number;
  if (i % 2 === 0) {
    o = await timeOurs();
    p = await timePeer();
  } else {
    p = await timePeer();
    o = await timeOurs();
  }
  if (i >= job.warmup) {
    oursMs.push(o);
    peerMs.push(p);
  }
}
peerClient.disconnect();
writeSync(3, `${JSON.stringify({ ours: oursMs, peer: peerMs })}\n`);
process.exit(0);
