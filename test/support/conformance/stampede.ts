/**
 * Runs the cross-process stampede: P child processes × N concurrent getOrLoad calls for one cold
 * key, released together. Shared by the conformance suite and the stampede benchmark.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetSpec } from './targets.ts';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'stampede-child.ts');

/** What the processes saw together. */
export interface StampedeResult {
  loaderCalls: number;
  values: string[];
  latencies: number[];
  /** Client events other than hit/miss, for diagnosis. */
  events: string[];
}

/** Runs the stampede; rejects when a child fails. */
export async function runStampede(
  spec: TargetSpec,
  key: string,
  processes: number,
  callsPerProcess: number,
  loaderMs: number,
): Promise<StampedeResult> {
  const job = JSON.stringify({ spec, key, calls: callsPerProcess, loaderMs });
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [CHILD, job], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const outputs = children.map(
    (child) =>
      new Promise<{ ready: Promise<void>; done: Promise<string> }>((resolveOuter) => {
        let out = '';
        let err = '';
        let readyResolve: () => void = () => {};
        const ready = new Promise<void>((r) => {
          readyResolve = r;
        });
        const done = new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.startsWith('ready\n')) readyResolve();
          });
          child.stderr.on('data', (d: Buffer) => {
            err += d.toString();
          });
          child.on('exit', (code) => {
            if (code === 0) resolve(out.slice('ready\n'.length).trim());
            else reject(new Error(`stampede child exited ${code}: ${err.trim().slice(-2000)}`));
          });
        });
        done.catch(() => readyResolve());
        resolveOuter({ ready, done });
      }),
  );
  const handles = await Promise.all(outputs);
  await Promise.all(handles.map((h) => h.ready));
  for (const child of children) child.stdin.end('go\n');
  const lines = await Promise.all(handles.map((h) => h.done));
  const result: StampedeResult = { loaderCalls: 0, values: [], latencies: [], events: [] };
  const values = new Set<string>();
  for (const line of lines) {
    const r = JSON.parse(line) as StampedeResult;
    result.loaderCalls += r.loaderCalls;
    for (const v of r.values) values.add(v);
    result.latencies.push(...r.latencies);
    result.events.push(...r.events);
  }
  result.values = [...values];
  return result;
}
