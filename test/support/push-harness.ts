/**
 * Side-by-side scripts with several connections, for server pushes (Pub/Sub messages, tracking
 * invalidations, keyspace events): every step runs on a real valkey-server and on the engine
 * server, and what each connection receives must be byte-identical.
 *
 * A step is `[conn, ...args]`. Special forms: `[conn, '#drain']` reads every push that arrives
 * within 150 ms (the concatenation is compared); `['*', '#sleep', ms]` waits; a first argument
 * starting with `?` runs the command without comparing (replies that carry client ids or differ by
 * nature); `{id:x}` in an argument is replaced by connection x's CLIENT ID on that server.
 */
import { expect } from 'vitest';
import { RawClient } from './resp-harness.ts';

/** One script step. */
export type Step = string[];

async function drain(c: RawClient): Promise<string> {
  let out = '';
  for (;;) {
    try {
      const r = await c.read(150);
      if (r === null) return `${out}<closed>`;
      out += r;
    } catch {
      return out === '' ? '<nothing>' : out;
    }
  }
}

/** Runs `script` on both servers (`ports[0]` is Valkey) and fails listing every difference. */
export async function comparePushes(ports: [number, number], script: Step[]): Promise<void> {
  const names = [...new Set(script.map((s) => s[0]!).filter((n) => n !== '*'))];
  const sides: Map<string, RawClient>[] = [];
  const ids: Map<string, string>[] = [];
  for (const port of ports) {
    const conns = new Map<string, RawClient>();
    const idOf = new Map<string, string>();
    for (const n of names) {
      const c = await RawClient.connect(port);
      conns.set(n, c);
      idOf.set(n, (await c.call('CLIENT', 'ID'))!.slice(1, -2));
    }
    sides.push(conns);
    ids.push(idOf);
  }
  const mismatches: string[] = [];
  try {
    for (const step of script) {
      const [who, first, ...rest] = step as [string, string, ...string[]];
      if (who === '*' && first === '#sleep') {
        await new Promise((r) => setTimeout(r, Number(rest[0])));
        continue;
      }
      const got: string[] = [];
      for (let side = 0; side < 2; side++) {
        const c = sides[side]!.get(who)!;
        if (first === '#drain') {
          got.push(await drain(c));
          continue;
        }
        const args = [first.replace(/^\?/, ''), ...rest].map((a) =>
          a.replace(/\{id:(\w+)\}/g, (_, n: string) => ids[side]!.get(n)!),
        );
        const reply = (await c.call(...args)) ?? '<closed>';
        got.push(first.startsWith('?') ? '' : reply);
      }
      if (got[0] !== got[1])
        mismatches.push(
          `${step.join(' ')}\n  valkey: ${JSON.stringify(got[0])}\n  engine: ${JSON.stringify(got[1])}`,
        );
    }
  } finally {
    for (const conns of sides) for (const c of conns.values()) c.close();
  }
  expect(mismatches.join('\n')).toBe('');
}

/** Splits `'a SET k v'` into a step. */
export const st = (line: string): Step => line.split(' ');
