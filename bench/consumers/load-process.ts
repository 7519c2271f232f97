/**
 * Starts the load side of the consumer benchmark (bench/consumers/producer.ts) in its own process,
 * so the benchmark's process is the consumer alone and `node --cpu-prof` profiles only the consumer.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Runs producer.ts with `args`; `done` resolves with its final JSON line, rejects on a failed exit. */
export function load(args: string[]): { child: ChildProcess; done: Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [new URL('./producer.ts', import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Record<string, unknown>);
      else reject(new Error(`load process (producer.ts ${args.join(' ')}) exited with ${code}: ${out}`));
    });
  });
  return { child, done };
}
