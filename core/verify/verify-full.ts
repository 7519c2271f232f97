/**
 * The verifier's full mode: one check of every row a set of changes touched, against its newest
 * change and the source of truth (tests, after a drain). The same key check as the live verifier.
 */
import type { ChangeEvent } from '../event/change-event.ts';
import { compareVersions } from '../event/version.ts';
import type { Expectation } from './expected.ts';
import { checkContext, checkKey, expectedText, stateOf } from './key-check.ts';
import { type Inconsistency, latenessOf, stalenessOf, type VerifyReport, withFraction } from './report.ts';
import { rowIdentity } from './sampling.ts';
import { TokenBucket } from './token-bucket.ts';
import type { VerifierOptions } from './verifier.ts';

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
