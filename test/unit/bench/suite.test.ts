/**
 * The benchmark suite's aggregation (bench/suite.ts): the JSON-lines protocol, medians over runs,
 * per-run ratios, targets on value or ratio in both directions, the summary table with FAILED
 * rows, and the results file (newest run first). Pure functions; no benchmark is run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aggregate,
  BENCH_JSON_ENV,
  type BenchResult,
  emitResult,
  formatNumber,
  formatRatio,
  formatTarget,
  median,
  parseResultLines,
  percentile,
  prependReport,
  renderReport,
  renderTable,
  targetMet,
} from '../../../bench/suite.ts';

const base: BenchResult = {
  bench: 'engine-server',
  metric: 'SET rps',
  value: 100,
  unit: 'req/s',
  peer: 'Valkey',
  peerValue: 200,
  better: 'higher',
  targetRatio: 0.9,
  command: 'node bench/engine/run.ts',
};

describe('median and percentile', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('uses the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled by reversal
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 1)).toBe(100);
    expect(percentile([5], 0.99)).toBe(5);
  });
});

describe('parseResultLines', () => {
  it('keeps valid lines and reports bad ones by line number', () => {
    const text = [
      JSON.stringify(base),
      'not json',
      JSON.stringify({ ...base, value: 'fast' }),
      '',
      JSON.stringify({ ...base, better: 'bigger' }),
      JSON.stringify({ ...base, ratio: null, samples: 5 }),
    ].join('\n');
    const { results, errors } = parseResultLines(text);
    expect(results).toHaveLength(2);
    expect(results[1]!.ratio).toBeUndefined();
    expect(results[1]!.samples).toBe(5);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^line 2: invalid JSON/);
    expect(errors[1]).toMatch(/^line 3: "value" must be a finite number/);
    expect(errors[2]).toMatch(/^line 5: "better"/);
  });
  it('rejects a missing command', () => {
    const { errors } = parseResultLines(JSON.stringify({ ...base, command: '' }));
    expect(errors[0]).toContain('"command"');
  });
});

describe('aggregate', () => {
  it('takes medians per (bench, metric) and the median of the per-run ratios', () => {
    const rows = aggregate([
      { ...base, value: 100, peerValue: 200 }, // 0.5
      { ...base, metric: 'GET rps', value: 50, peerValue: 50 },
      { ...base, value: 180, peerValue: 200 }, // 0.9
      { ...base, value: 90, peerValue: 100 }, // 0.9
    ]);
    expect(rows.map((r) => r.metric)).toEqual(['SET rps', 'GET rps']);
    const set = rows[0]!;
    expect(set.value).toBe(100);
    expect(set.peerValue).toBe(200);
    expect(set.ratio).toBeCloseTo(0.9); // not 100 / 200
    expect([set.min, set.max, set.runs]).toEqual([90, 180, 3]);
    expect(set.met).toBe(true);
    expect(rows[1]!.ratio).toBe(1);
  });
  it('prefers the ratio a script reported (its own median) and sums samples', () => {
    const [row] = aggregate([
      { ...base, ratio: 0.7, samples: 3 },
      { ...base, ratio: 0.8, samples: 3 },
      { ...base, ratio: 0.75, samples: 3 },
    ]);
    expect(row!.ratio).toBe(0.75);
    expect(row!.samples).toBe(9);
    expect(row!.met).toBe(false);
  });
  it('has no ratio without a peer and no verdict without a target', () => {
    const [row] = aggregate([
      { bench: 'x', metric: 'p50', value: 3, unit: 'ms', better: 'lower', command: 'c' },
    ]);
    expect(row!.ratio).toBeUndefined();
    expect(row!.peerValue).toBeUndefined();
    expect(row!.met).toBeUndefined();
  });
  it('keeps distinct commands and notes', () => {
    const [row] = aggregate([
      { ...base, note: 'a' },
      { ...base, command: 'other', note: 'a' },
    ]);
    expect(row!.commands).toEqual(['node bench/engine/run.ts', 'other']);
    expect(row!.notes).toEqual(['a']);
  });
});

describe('targetMet', () => {
  it('checks a value target in the better direction', () => {
    expect(targetMet({ value: 120, better: 'lower', target: 150 })).toBe(true);
    expect(targetMet({ value: 151, better: 'lower', target: 150 })).toBe(false);
    expect(targetMet({ value: 99_999, better: 'higher', target: 100_000 })).toBe(false);
  });
  it('meets an either/or target when one of them is met', () => {
    const row = { better: 'higher' as const, target: 200_000, targetRatio: 0.4 };
    expect(targetMet({ ...row, value: 210_000, ratio: 0.1 })).toBe(true);
    expect(targetMet({ ...row, value: 50_000, ratio: 0.45 })).toBe(true);
    expect(targetMet({ ...row, value: 50_000, ratio: 0.05 })).toBe(false);
  });
  it('checks a lower-is-better ratio target (memory per key ≤ peer)', () => {
    expect(targetMet({ value: 136, ratio: 0.94, better: 'lower', targetRatio: 1 })).toBe(true);
    expect(targetMet({ value: 158, ratio: 1.01, better: 'lower', targetRatio: 1 })).toBe(false);
  });
  it('has no verdict for a ratio target without a ratio', () => {
    expect(targetMet({ value: 1, better: 'higher', targetRatio: 2 })).toBeUndefined();
  });
});

describe('formatting and the table', () => {
  it('formats numbers and ratios', () => {
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(1000)).toBe('1,000');
    expect(formatNumber(1)).toBe('1');
    expect(formatNumber(136.4)).toBe('136');
    expect(formatNumber(31.26)).toBe('31.3');
    expect(formatNumber(2.666)).toBe('2.67');
    expect(formatNumber(0.0123)).toBe('0.012');
    expect(formatRatio(0.555)).toBe('0.56×');
    expect(formatRatio(0.001)).toBe('0.0010×');
    expect(formatRatio(Number.NaN)).toBe('–');
    expect(formatTarget({ better: 'higher', target: 200_000, targetRatio: 0.4, unit: 'events/s' })).toBe(
      '≥ 200,000 events/s or ≥ 0.4×',
    );
    expect(formatTarget({ better: 'lower', unit: 'ms' })).toBe('–');
  });
  it('renders one row per metric and a FAILED row per failure', () => {
    const rows = aggregate([
      { ...base, value: 90, peerValue: 100 },
      { ...base, value: 95, peerValue: 100 },
    ]);
    const table = renderTable(rows, [
      { bench: 'consumers', reason: 'Kafka not reachable on 127.0.0.1:19092 | x', command: 'node c.ts' },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(
      '| engine-server | SET rps | 92.5 req/s (90–95) | Valkey | 100 req/s | 0.93× | ≥ 0.9× | met | 2 |',
    );
    expect(lines[3]).toContain('| consumers | FAILED: Kafka not reachable on 127.0.0.1:19092 \\| x |');
    expect(lines[3]).toContain('| FAILED | 0 |');
  });
});

describe('results file', () => {
  const report = (startedAt: string) =>
    renderReport({
      startedAt,
      durationSec: 61,
      quick: false,
      runs: 3,
      suiteCommand: 'node bench/run.ts --write',
      machine: {
        cpu: 'Test CPU',
        cores: 2,
        memoryGiB: 23.4,
        os: 'Debian',
        node: 'v24.0.0',
        valkey: 'Valkey 8.1.1',
        loadBefore: [1, 2, 3],
        loadAfter: [4, 5, 6],
      },
      rows: aggregate([base]),
      failures: [],
      commands: [{ command: 'node bench/engine/run.ts', seconds: 12.34, ok: true }],
    });
  it('names the machine, the loads and every command', () => {
    const text = report('2026-11-22T22:00:00.000Z');
    expect(text).toContain('2 × Test CPU, 23.4 GiB, Debian, Node v24.0.0, Valkey 8.1.1');
    expect(text).toContain('before: 1.00 2.00 3.00; after: 4.00 5.00 6.00');
    expect(text).toContain('- `node bench/engine/run.ts` (12.3 s)');
  });
  it('puts the newest run first, below the header', () => {
    const header = '# Results\n\n';
    const once = prependReport('', header, report('2026-11-22T22:00:00.000Z'));
    const twice = prependReport(once, header, report('2026-11-23T08:00:00.000Z'));
    expect(twice.startsWith(header)).toBe(true);
    expect(twice.indexOf('## 2026-11-23')).toBeLessThan(twice.indexOf('## 2026-11-22'));
    expect(twice.match(/^# Results/gm)).toHaveLength(1);
  });
});

describe('emitResult', () => {
  it('appends one JSON line per result to the file named by the environment, and nothing when unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-suite-'));
    try {
      const file = join(dir, 'r.jsonl');
      emitResult(base, { [BENCH_JSON_ENV]: file });
      emitResult({ ...base, value: 7 }, { [BENCH_JSON_ENV]: file });
      emitResult(base, {});
      const { results, errors } = parseResultLines(readFileSync(file, 'utf8'));
      expect(errors).toEqual([]);
      expect(results.map((r) => r.value)).toEqual([100, 7]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
