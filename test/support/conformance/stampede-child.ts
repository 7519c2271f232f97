/**
 * One process of the cross-process stampede: opens the target named on the command line, prints
 * `ready`, waits for `go` on stdin, fires N concurrent getOrLoad calls for one cold key, and prints
 * one JSON line: loader calls, the distinct values returned, and each call's latency in ms.
 *
 *   node test/support/conformance/stampede-child.ts '<json: { spec, key, calls, loaderMs }>'
 */
import { createInterface } from 'node:readline';
import { createCacheClient } from '../../../core/client/cache-client.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { openSpec, type TargetSpec } from './targets.ts';

interface Job {
  spec: TargetSpec;
  key: string;
  calls: number;
  loaderMs: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const target = await openSpec(job.spec, 60_000);
const store = leaseStoreFor(target);
const events: string[] = [];
const client = createCacheClient({
  store,
  ttlMs: 60_000,
  onEvent: (e) => {
    if (e.type !== 'hit' && e.type !== 'miss')
      events.push(
        `${e.type}${'outcome' in e ? `:${e.outcome}` : ''}${'error' in e ? `:${String(e.error)}` : ''}`,
      );
  },
});
let loaderCalls = 0;
const loader = async (key: string) => {
  loaderCalls++;
  await new Promise((r) => setTimeout(r, job.loaderMs));
  return { key, loadedBy: process.pid };
};

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const latencies: number[] = [];
const values = await Promise.all(
  Array.from({ length: job.calls }, async () => {
    const t0 = performance.now();
    const v = await client.getOrLoad(job.key, loader);
    latencies.push(performance.now() - t0);
    return JSON.stringify(v);
  }),
);
await client.close();
await target.close();
process.stdout.write(`${JSON.stringify({ loaderCalls, values: [...new Set(values)], latencies, events })}\n`);
