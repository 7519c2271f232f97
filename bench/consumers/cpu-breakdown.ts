/**
 * Bench-only: where a consumer process spends its CPU, by phase, without instrumenting the
 * consumer's code. The V8 sampling profiler (node:inspector) runs while the consumer drains; each
 * sample is charged to the nearest frame up its stack whose source file names a phase (so JSON.parse
 * called by a decoder counts as decode, a socket write under iovalkey as target); GC pauses come
 * from PerformanceObserver 'gc' entries. Our client adapters (consumers/kafka/kafkajs-client.ts,
 * platformatic-client.ts and platformatic/) count as client, core/targets/ as target; the consumer
 * loop is kafka-cdc-consumer.ts and core/pipeline. (Until 2026-12-07 the platformatic/ files and,
 * since the folder's rename to core/targets/, our Valkey batch code counted as the consumer loop.)
 * Shares are of the main thread's busy samples; multiplied by the process's CPU per event
 * (process.cpuUsage, all threads) they give µs per event per phase.
 */
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';

/** Phases, in report order. */
export const PHASES = ['client', 'decode', 'plan', 'target', 'consumer', 'gc', 'other'] as const;
/** One phase. */
export type Phase = (typeof PHASES)[number];

/** First match wins; tested against a frame's script URL. */
const RULES: [RegExp, Phase][] = [
  [
    /node_modules\/(kafkajs|@platformatic|mnemonist|fastq)\/|consumers\/kafka\/(kafkajs-client|platformatic)/,
    'client',
  ],
  [/core\/decode\/|consumers\/kafka\/kafka-record|core\/event\//, 'decode'],
  [/core\/plan\/|core\/rules\//, 'plan'],
  [
    /core\/targets?\/|node_modules\/(iovalkey|@iovalkey|redis-parser|cluster-key-slot|denque|standard-as-callback)\//,
    'target',
  ],
  [/consumers\/|core\/pipeline\//, 'consumer'],
];

interface ProfileNode {
  id: number;
  parent?: number;
  children?: number[];
  callFrame: { url: string; functionName: string };
}

/** A running measurement; `stop()` ends it and returns each phase's share of busy samples. */
export interface CpuBreakdown {
  stop(): Promise<{ shares: Record<Phase, number>; gcMs: number; samples: number }>;
}

/** Starts the profiler (sampling every `intervalUs`) and the GC observer. */
export async function startCpuBreakdown(intervalUs = 500): Promise<CpuBreakdown> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      gc.disconnect();
      session.disconnect();
      const nodes = new Map<number, ProfileNode>();
      for (const n of profile.nodes as ProfileNode[]) nodes.set(n.id, n);
      for (const n of nodes.values()) for (const c of n.children ?? []) nodes.get(c)!.parent = n.id;
      const phaseOf = new Map<number, Phase | null>();
      const classify = (id: number): Phase | null => {
        const cached = phaseOf.get(id);
        if (cached !== undefined) return cached;
        const n = nodes.get(id)!;
        const name = n.callFrame.functionName;
        let p: Phase | null;
        if (name === '(idle)') p = null;
        else if (name === '(garbage collector)') p = 'gc';
        else {
          p =
            RULES.find(([re]) => re.test(n.callFrame.url))?.[1] ?? (n.parent ? classify(n.parent) : 'other');
        }
        phaseOf.set(id, p);
        return p;
      };
      const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
      let busy = 0;
      for (const id of profile.samples ?? []) {
        const p = classify(id);
        if (p === null) continue;
        counts[p]++;
        busy++;
      }
      const shares = Object.fromEntries(PHASES.map((p) => [p, busy ? counts[p] / busy : 0])) as Record<
        Phase,
        number
      >;
      return { shares, gcMs, samples: busy };
    },
  };
}
