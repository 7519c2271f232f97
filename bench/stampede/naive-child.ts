/**
 * The stampede benchmark's peer, one process of it: plain cache-aside without single-flight or
 * leases (GET; on a miss call the loader and SET the value with a TTL), the way an application
 * without a stampede guard reads. Same protocol as test/support/conformance/stampede-child.ts: prints
 * `ready`, waits for `go` on stdin, fires N concurrent reads of one cold key, prints one JSON line
 * `{ loaderCalls, latencies }`.
 *
 *   node bench/stampede/naive-child.ts '<json: { host, port, key, calls, loaderMs }>'
 */
import { createInterface } from 'node:readline';
import { Valkey } from 'iovalkey';

interface Job {
  host: string;
  port: number;
  key: string;
  calls: number;
  loaderMs: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const client = new Valkey({ host: job.host, port: job.port, lazyConnect: true });
await client.connect();
let loaderCalls = 0;
const loader = async (key: string): Promise<string> => {
  loaderCalls++;
  await new Promise((r) => setTimeout(r, job.loaderMs));
  return JSON.stringify({ key, loadedBy: process.pid });
};

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const latencies: number[] = [];
await Promise.all(
  Array.from({ length: job.calls }, async () => {
    const t0 = performance.now();
    let v = await client.get(job.key);
    if (v === null) {
      v = await loader(job.key);
      await client.set(job.key, v, 'PX', 60_000);
    }
    latencies.push(performance.now() - t0);
  }),
);
client.disconnect();
process.stdout.write(`${JSON.stringify({ loaderCalls, latencies })}\n`);
