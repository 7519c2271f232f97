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
import type { CacheTarget } from '../targets/cache-target.ts';
import type { Expectation, ExpectSpec } from './expected.ts';
import { checkContext, checkKey, expectedText, type State, stateOf } from './key-check.ts';
import { type Inconsistency, latenessOf, stalenessOf, type VerifyReport, withFraction } from './report.ts';
import { isSampled, rowIdentity } from './sampling.ts';
import { TokenBucket } from './token-bucket.ts';
import type { TruthSource } from './truth.ts';

export type { Inconsistency, VerifyReport, WindowReport } from './report.ts';

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
