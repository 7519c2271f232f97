/**
 * The consistency verifier (in the spirit of Meta's Polaris and Uber's Cache Inspector): it follows
 * sampled rows through the change stream, reads the cache (and, when needed, the source of truth) at
 * fixed delays after each sampled change's commit, and reports the share of changes the cache
 * reflected within each delay ("nines within N seconds") plus the inconsistencies it saw last.
 *
 * Windows count from the moment the change was visible: the later of its commit time and the moment
 * the verifier saw it in the stream (a verifier cannot check a change it has not seen; like Polaris,
 * which measures from the invalidation event it receives). The report gives the stream lag (seen −
 * commit) separately, so "within N s of the commit" is at most N + that lag.
 *
 * Semantics of one check (change E of row R, cache key K, at the window's due time):
 * 1. K absent → consistent (a cache may always drop a key).
 * 2. K holds what E, or any newer change of R the verifier has seen, expects for K → consistent
 *    (the cache reflects a version ≥ E: Polaris' rule; a newer write is followed, never reported).
 * 3. Else read R's current row: K holds what the current row expects → consistent (the source moved
 *    on faster than the verifier's stream).
 * 4. Else, when the current row agrees with the newest change seen (the verifier knows the newest
 *    state) → **inconsistent**; when it does not (a change the verifier has not seen yet) →
 *    `unverified` at this window. Keys whose expected value is unknowable (see expected.ts) are
 *    `unchecked` and do not count.
 * A change is consistent at a window when every checked key is. Its staleness is the first window at
 * which it was consistent (∞ when never).
 *
 * Read-only (only `target.get` and `truth.read`), rate-limited (one token per read), bounded memory
 * (`maxPending` changes awaiting checks; beyond it the oldest is dropped and counted).
 */
import type { ChangeEvent } from '../event/change-event.ts';
import { compareVersions } from '../event/version.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import type { CacheTarget } from '../target/cache-target.ts';
import { type Expectation, type ExpectSpec, expectationsFor, type Judgement, judge } from './expected.ts';
import { isSampled, rowIdentity } from './sampling.ts';
import { TokenBucket } from './token-bucket.ts';
import type { TruthSource } from './truth.ts';
import { nines, percentile } from './windows.ts';

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  config: CompiledConfig;
  /** Read with `get` only. */
  target: Pick<CacheTarget, 'get'>;
  /** The source of truth; without it, step 3/4 of a check cannot run and mismatches are `unverified`. */
  truth?: TruthSource;
  /** Fraction of rows followed, by row-key hash. @default 1 */
  sample?: number;
  /** Check delays after each change's commit time, ms, ascending. @default [1000, 5000, 30000] */
  windowsMs?: readonly number[];
  /** Reads per second against cache and truth together. @default 1000 */
  ratePerSec?: number;
  /** Most changes awaiting checks; the oldest beyond it is dropped (counted). @default 100000 */
  maxPending?: number;
  /** What the app's loader stores under `invalidate` keys (see expected.ts). */
  expect?: ExpectSpec | undefined;
  /** Most inconsistencies kept for the report. @default 100 */
  maxInconsistencies?: number;
  /** Checks run concurrently (each still takes its reads from the rate limiter). @default 16 */
  concurrency?: number;
  /** Clock, ms. @default Date.now */
  now?: () => number;
  /** Sleep. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** One inconsistency: a key that held neither the sampled change's state, a newer one, nor the truth's. */
export interface Inconsistency {
  key: string;
  /** The row, e.g. `public.customers {"id":7}`. */
  row: string;
  /** Expected by the newest change seen: a value, or null = absent. */
  expected: string | null;
  actual: string;
  /** Version and commit time (epoch ms) of the sampled change. */
  version: string;
  commitTs: number;
  /** Time between the commit and the read, ms. */
  ageMs: number;
  /** The window of the check, ms (-1: a full check after drain). */
  windowMs: number;
}

/** Counts of one window. */
export interface WindowReport {
  windowMs: number;
  checked: number;
  consistent: number;
  inconsistent: number;
  unverified: number;
  /** consistent / (consistent + inconsistent); 1 when nothing was judged. */
  fraction: number;
  /** -log10(1 - fraction); Infinity when nothing was inconsistent. */
  nines: number;
}

/** The verifier's report. */
export interface VerifyReport {
  mode: 'windows' | 'full';
  sample: number;
  /** Changes seen, sampled (followed), duplicates ignored, dropped for memory, still pending. */
  changes: { seen: number; sampled: number; duplicates: number; dropped: number; pending: number };
  /** Rows followed. */
  rows: number;
  reads: { cache: number; truth: number; rateLimitedMs: number };
  /** Keys whose expected state is unknowable (expected.ts), per check. */
  unchecked: number;
  windows: WindowReport[];
  /** Inconsistencies at the last window (or of the full check). */
  inconsistencies: Inconsistency[];
  /** Keys found inconsistent at the last window (or by the full check); the list may be capped. */
  staleKeys: number;
  /**
   * Staleness of sampled changes: the age (since the change was visible) at the first check that
   * found it consistent, ms — an upper bound, at window resolution and including check lateness
   * (Infinity: stale at every window).
   */
  staleness: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  /**
   * How late checks ran after their due time (rate limit, load), ms. A check that ran late measured
   * "within window + lateness": when p99 is not small against the windows, lower `--sample` or raise
   * `--rate`.
   */
  lateness: { p50Ms: number; p99Ms: number; maxMs: number };
  /** How long after its commit the verifier saw each sampled change (stream lag), ms. */
  streamLag: { p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * Records that could not be decoded (poison: the pipeline dead-letters them), counted and skipped;
   * `positions` lists the first few. Absent when the source had none.
   */
  poison?: { count: number; positions: string[] };
}

interface State {
  version: string;
  ts: number;
  event: ChangeEvent;
  expect: Map<string, Expectation>;
}

interface Row {
  id: string;
  /** States by ascending version. */
  states: State[];
  pending: number;
}

interface Sample {
  row: Row;
  state: State;
  /** Index of the next window to check. */
  next: number;
  /** Windows count from here: the later of the commit and the moment the verifier saw the change. */
  base: number;
  due: number;
  /** First window index at which it was consistent; -1 none yet. */
  firstConsistent: number;
  /** Age (read time − base) at that first consistent check, ms. */
  consistentAfterMs: number;
  done: boolean;
}

/** The live verifier. */
export interface Verifier {
  /** Feeds one decoded change (any order; duplicates are ignored). Not-sampled rows cost nothing. */
  observe(event: ChangeEvent): void;
  /** Runs every check that is due now. */
  runDue(): Promise<void>;
  /** Runs checks as they fall due until every pending change passed its last window (or `until` ms). */
  drain(untilMs?: number): Promise<void>;
  /** The report so far. */
  report(): VerifyReport;
}

const DEFAULT_WINDOWS = [1000, 5000, 30_000];
const MAX_STATES_PER_ROW = 64;

function stateOf(config: CompiledConfig, event: ChangeEvent, expect: ExpectSpec | undefined): State {
  return { version: event.version, ts: event.ts, event, expect: expectationsFor(config, event, expect) };
}

function sameExpectation(a: Expectation | undefined, b: Expectation | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind !== b.kind) return false;
  return a.kind !== 'value' || a.value === (b as { value: string }).value;
}

/** What a key check reads through and counts into (one per verifier run). */
interface CheckContext {
  config: CompiledConfig;
  target: Pick<CacheTarget, 'get'>;
  truth: TruthSource | undefined;
  expect: ExpectSpec | undefined;
  bucket: TokenBucket;
  counts: { cache: number; truth: number };
}

function checkContext(
  options: VerifyFullOptions,
  bucket: TokenBucket,
  counts: { cache: number; truth: number },
): CheckContext {
  return {
    config: options.config,
    target: options.target,
    truth: options.truth,
    expect: options.expect,
    bucket,
    counts,
  };
}

/** Shared by the live and the full mode: judges one key of a change against newer states and the truth. */
async function checkKey(
  o: CheckContext,
  states: readonly State[],
  key: string,
  truthCache: { row?: Map<string, Expectation> | null },
): Promise<{
  judgement: Judgement | 'unverified';
  actual: string | null;
  expected: Expectation | undefined;
}> {
  await o.bucket.take();
  o.counts.cache++;
  const actual = await o.target.get(key);
  const newest = states.at(-1)?.expect.get(key);
  if (actual === null) return { judgement: 'consistent', actual, expected: newest };
  let unchecked = false;
  for (const s of states) {
    const e = s.expect.get(key);
    if (e === undefined) continue;
    const j = judge(e, actual);
    if (j === 'consistent') return { judgement: 'consistent', actual, expected: newest };
    if (j === 'unchecked') unchecked = true;
  }
  if (o.truth === undefined)
    return { judgement: unchecked ? 'unchecked' : 'unverified', actual, expected: newest };
  if (truthCache.row === undefined) {
    await o.bucket.take();
    o.counts.truth++;
    const last = states.at(-1)!.event;
    const row = await o.truth.read(last);
    // The current row as a change: its expectations are the planner's projection of it.
    const synthetic: ChangeEvent =
      row === null
        ? { ...last, op: 'delete', before: last.after ?? last.before, after: null, unavailable: [] }
        : {
            ...last,
            op: last.op === 'delete' ? 'update' : last.op,
            before: null,
            after: row,
            unavailable: [],
          };
    truthCache.row = expectationsFor(o.config, synthetic, o.expect);
  }
  const truth = truthCache.row?.get(key);
  if (truth !== undefined && truth.kind === 'value' && truth.value === actual)
    return { judgement: 'consistent', actual, expected: newest };
  if (truth?.kind === 'unchecked' || (unchecked && truth?.kind !== 'absent'))
    return { judgement: 'unchecked', actual, expected: newest };
  // The verifier knows the newest state when the truth expects what the newest change expects.
  if (sameExpectation(truth ?? { kind: 'absent' }, newest ?? { kind: 'absent' }))
    return { judgement: 'inconsistent', actual, expected: newest };
  return { judgement: 'unverified', actual, expected: newest };
}

function expectedText(e: Expectation | undefined): string | null {
  return e?.kind === 'value' ? e.value : null;
}

/** Creates a live verifier (see module comment). */
export function createVerifier(options: VerifierOptions): Verifier {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const windows = [...(options.windowsMs ?? DEFAULT_WINDOWS)];
  if (windows.length === 0) throw new RangeError('verifier: give at least one window');
  const fraction = options.sample ?? 1;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError('verifier: sample must be in [0, 1]');
  const maxPending = options.maxPending ?? 100_000;
  const maxInconsistencies = options.maxInconsistencies ?? 100;
  const bucket = new TokenBucket({ ratePerSec: options.ratePerSec ?? 1000, now, sleep });
  const counts = { cache: 0, truth: 0 };
  const ctx = checkContext(options, bucket, counts);
  const rows = new Map<string, Row>();
  let rowsFollowed = 0;
  /** Pending samples in arrival order (due times are nearly sorted: the scheduler scans them all). */
  let pending: Sample[] = [];
  const changes = { seen: 0, sampled: 0, duplicates: 0, dropped: 0 };
  const perWindow = windows.map((w) => ({
    windowMs: w,
    checked: 0,
    consistent: 0,
    inconsistent: 0,
    unverified: 0,
  }));
  let unchecked = 0;
  const inconsistencies: Inconsistency[] = [];
  let staleKeys = 0;
  const staleness: number[] = [];
  const lateness: number[] = [];
  const streamLag: number[] = [];
  const concurrency = Math.max(1, options.concurrency ?? 16);

  function finish(s: Sample): void {
    s.done = true;
    staleness.push(s.firstConsistent < 0 ? Number.POSITIVE_INFINITY : s.consistentAfterMs);
    s.row.pending--;
    if (s.row.pending === 0) rows.delete(s.row.id);
  }

  async function check(s: Sample): Promise<void> {
    const w = s.next;
    const readAt = now();
    if (lateness.length < 100_000) lateness.push(Math.max(0, now() - s.due));
    else lateness[Math.floor(Math.random() * lateness.length)] = Math.max(0, now() - s.due);
    const states = s.row.states.filter((x) => compareVersions(x.version, s.state.version) >= 0);
    const truthCache: { row?: Map<string, Expectation> | null } = {};
    let verdict: 'consistent' | 'inconsistent' | 'unverified' | 'unchecked' = 'unchecked';
    const bad: Inconsistency[] = [];
    for (const key of s.state.expect.keys()) {
      const r = await checkKey(ctx, states, key, truthCache);
      if (r.judgement === 'unchecked') {
        unchecked++;
        continue;
      }
      if (r.judgement === 'inconsistent') {
        verdict = 'inconsistent';
        bad.push({
          key,
          row: s.row.id,
          expected: expectedText(r.expected),
          actual: r.actual!,
          version: s.state.version,
          commitTs: s.state.ts,
          ageMs: now() - s.state.ts,
          windowMs: windows[w]!,
        });
      } else if (r.judgement === 'unverified' && verdict !== 'inconsistent') verdict = 'unverified';
      else if (r.judgement === 'consistent' && verdict === 'unchecked') verdict = 'consistent';
    }
    const c = perWindow[w]!;
    if (verdict !== 'unchecked') c.checked++;
    if (verdict === 'consistent') c.consistent++;
    else if (verdict === 'inconsistent') c.inconsistent++;
    else if (verdict === 'unverified') c.unverified++;
    if ((verdict === 'consistent' || verdict === 'unchecked') && s.firstConsistent < 0) {
      s.firstConsistent = w;
      s.consistentAfterMs = Math.max(0, readAt - s.base);
    }
    const last = w === windows.length - 1;
    if (last) {
      staleKeys += bad.length;
      for (const b of bad) if (inconsistencies.length < maxInconsistencies) inconsistencies.push(b);
    }
    s.next++;
    if (last) finish(s);
    else s.due = s.base + windows[s.next]!;
  }

  const verifier: Verifier = {
    observe(event) {
      changes.seen++;
      if (event.op === 'truncate') return;
      const id = rowIdentity(event);
      if (id === null || !isSampled(id, fraction)) return;
      let row = rows.get(id);
      if (row === undefined) {
        row = { id, states: [], pending: 0 };
        rows.set(id, row);
        rowsFollowed++;
      }
      if (row.states.some((x) => x.version === event.version)) {
        changes.duplicates++;
        return;
      }
      const state = stateOf(options.config, event, options.expect);
      // Keep states sorted by version (the stream may deliver a row's changes out of order).
      let at = row.states.length;
      while (at > 0 && compareVersions(row.states[at - 1]!.version, state.version) > 0) at--;
      row.states.splice(at, 0, state);
      if (row.states.length > MAX_STATES_PER_ROW) row.states.shift();
      if (state.expect.size === 0) return;
      changes.sampled++;
      row.pending++;
      const seenAt = now();
      const ts = event.ts > 0 ? event.ts : seenAt;
      state.ts = ts;
      if (streamLag.length < 100_000) streamLag.push(Math.max(0, seenAt - ts));
      const base = Math.max(ts, seenAt);
      pending.push({
        row,
        state,
        next: 0,
        base,
        due: base + windows[0]!,
        firstConsistent: -1,
        consistentAfterMs: 0,
        done: false,
      });
      if (pending.length > maxPending) {
        const oldest = pending.shift()!;
        changes.dropped++;
        oldest.done = true;
        oldest.row.pending--;
        if (oldest.row.pending === 0) rows.delete(oldest.row.id);
      }
    },
    async runDue() {
      for (;;) {
        const t = now();
        const due = pending.filter((s) => !s.done && s.due <= t).sort((a, b) => a.due - b.due);
        if (due.length === 0) break;
        let at = 0;
        const lane = async () => {
          while (at < due.length) {
            const s = due[at++]!;
            if (!s.done) await check(s);
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
        pending = pending.filter((s) => !s.done);
      }
    },
    async drain(untilMs = Number.POSITIVE_INFINITY) {
      for (;;) {
        await verifier.runDue();
        if (pending.length === 0 || now() >= untilMs) return;
        let next = Number.POSITIVE_INFINITY;
        for (const s of pending) if (s.due < next) next = s.due;
        await sleep(Math.max(1, Math.min(next, untilMs) - now()));
      }
    },
    report() {
      return {
        mode: 'windows',
        sample: fraction,
        changes: { ...changes, pending: pending.length },
        rows: rowsFollowed,
        reads: { ...counts, rateLimitedMs: bucket.waitedMs },
        unchecked,
        windows: perWindow.map(withFraction),
        inconsistencies: [...inconsistencies],
        staleKeys,
        staleness: stalenessOf(staleness),
        lateness: latenessOf(lateness),
        streamLag: latenessOf(streamLag),
      };
    },
  };
  return verifier;
}

function withFraction(c: Omit<WindowReport, 'fraction' | 'nines'>): WindowReport {
  const judged = c.consistent + c.inconsistent;
  const fraction = judged === 0 ? 1 : c.consistent / judged;
  return { ...c, fraction, nines: nines(fraction) };
}

function stalenessOf(values: number[]): VerifyReport['staleness'] {
  return {
    p50Ms: percentile(values, 50),
    p99Ms: percentile(values, 99),
    maxMs: values.length === 0 ? Number.NaN : maxOf(values),
    samples: values.length,
  };
}

function maxOf(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}

function latenessOf(values: number[]): VerifyReport['lateness'] {
  if (values.length === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), maxMs: maxOf(values) };
}

/** Options of {@link verifyFull}: the verifier's, without windows and sampling. */
export type VerifyFullOptions = Omit<VerifierOptions, 'windowsMs' | 'maxPending' | 'sample' | 'sleep'>;

/**
 * Full mode (tests, after a drain): every row a set of changes touched is checked once, against its
 * newest change (by version) and the source of truth. Inconsistent = a key that holds neither the
 * newest change's state nor the current row's, while the two agree; `unverified` = the source has a
 * newer state than any change given (the change log missed one).
 */
export async function verifyFull(
  events: Iterable<ChangeEvent>,
  options: VerifyFullOptions,
): Promise<VerifyReport> {
  const now = options.now ?? Date.now;
  const bucket = new TokenBucket({ ratePerSec: options.ratePerSec ?? 1000, now });
  const counts = { cache: 0, truth: 0 };
  const ctx = checkContext(options, bucket, counts);
  const newest = new Map<string, ChangeEvent>();
  let seen = 0;
  for (const e of events) {
    seen++;
    if (e.op === 'truncate') continue;
    const id = rowIdentity(e);
    if (id === null) continue;
    const prev = newest.get(id);
    if (prev === undefined || compareVersions(e.version, prev.version) > 0) newest.set(id, e);
  }
  const c = { windowMs: -1, checked: 0, consistent: 0, inconsistent: 0, unverified: 0 };
  const inconsistencies: Inconsistency[] = [];
  let unchecked = 0;
  let staleKeys = 0;
  const maxInconsistencies = options.maxInconsistencies ?? 100;
  for (const [id, event] of newest) {
    const state = stateOf(options.config, event, options.expect);
    if (state.expect.size === 0) continue;
    const truthCache: { row?: Map<string, Expectation> | null } = {};
    let verdict: 'consistent' | 'inconsistent' | 'unverified' | 'unchecked' = 'unchecked';
    for (const key of state.expect.keys()) {
      const r = await checkKey(ctx, [state], key, truthCache);
      if (r.judgement === 'unchecked') {
        unchecked++;
        continue;
      }
      if (r.judgement === 'inconsistent') {
        verdict = 'inconsistent';
        staleKeys++;
        if (inconsistencies.length < maxInconsistencies)
          inconsistencies.push({
            key,
            row: id,
            expected: expectedText(r.expected),
            actual: r.actual!,
            version: event.version,
            commitTs: event.ts,
            ageMs: now() - event.ts,
            windowMs: -1,
          });
      } else if (r.judgement === 'unverified' && verdict !== 'inconsistent') verdict = 'unverified';
      else if (r.judgement === 'consistent' && verdict === 'unchecked') verdict = 'consistent';
    }
    if (verdict !== 'unchecked') c.checked++;
    if (verdict === 'consistent') c.consistent++;
    else if (verdict === 'inconsistent') c.inconsistent++;
    else if (verdict === 'unverified') c.unverified++;
  }
  return {
    mode: 'full',
    sample: 1,
    changes: { seen, sampled: newest.size, duplicates: 0, dropped: 0, pending: 0 },
    rows: newest.size,
    reads: { ...counts, rateLimitedMs: bucket.waitedMs },
    unchecked,
    windows: [withFraction(c)],
    inconsistencies,
    staleKeys,
    staleness: stalenessOf([]),
    lateness: latenessOf([]),
    streamLag: latenessOf([]),
  };
}
