/**
 * One cold start, in a fresh process: import the bundle, then invoke its handler once with the
 * event in CDC_BENCH_EVENT (a file) against the running target named by CDC_CACHE_TARGET.
 * Prints one JSON line `{ importMs, firstInvokeMs, totalMs, failures }` on fd 3 (stdout carries
 * the handler's logs, as in Lambda).
 */
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const t0 = performance.now();
const mod = (await import(pathToFileURL(process.env.CDC_BENCH_BUNDLE!).href)) as {
  handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;
};
const t1 = performance.now();
const event = JSON.parse(readFileSync(process.env.CDC_BENCH_EVENT!, 'utf8'));
const end = Date.now() + 30_000;
const response = await mod.handler(event, {
  awsRequestId: 'bench',
  functionName: 'bench',
  getRemainingTimeInMillis: () => end - Date.now(),
});
const t2 = performance.now();
writeSync(
  3,
  `${JSON.stringify({ importMs: t1 - t0, firstInvokeMs: t2 - t1, totalMs: t2 - t0, failures: response.batchItemFailures.length })}\n`,
);
process.exit(0);
