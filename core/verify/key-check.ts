/**
 * One key check, shared by the live verifier and the full mode: the semantics of steps 1–4 in
 * verifier.ts's header (absent → consistent; a state seen → consistent; the truth's state →
 * consistent; else inconsistent when the truth agrees with the newest change seen, unverified when
 * it does not). Every read takes a token from the rate limiter and is counted.
 */
import type { ChangeEvent } from '../event/change-event.ts';
import type { CompiledConfig } from '../rules/compile.ts';
import type { CacheTarget } from '../targets/cache-target.ts';
import { type Expectation, type ExpectSpec, expectationsFor, type Judgement, judge } from './expected.ts';
import type { TokenBucket } from './token-bucket.ts';
import type { TruthSource } from './truth.ts';

/** One change of a row and what it expects in the cache, per key. */
export interface State {
  version: string;
  ts: number;
  event: ChangeEvent;
  expect: Map<string, Expectation>;
}

/** The state of `event`: what it expects in the cache, per key. */
export function stateOf(config: CompiledConfig, event: ChangeEvent, expect: ExpectSpec | undefined): State {
  return { version: event.version, ts: event.ts, event, expect: expectationsFor(config, event, expect) };
}

function sameExpectation(a: Expectation | undefined, b: Expectation | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind !== b.kind) return false;
  return a.kind !== 'value' || a.value === (b as { value: string }).value;
}

/** Where a run's checks read: the verifier's options that matter to a check. */
export interface CheckSources {
  config: CompiledConfig;
  target: Pick<CacheTarget, 'get'>;
  truth?: TruthSource | undefined;
  expect?: ExpectSpec | undefined;
}

/** What a key check reads through and counts into (one per verifier run). */
export interface CheckContext {
  config: CompiledConfig;
  target: Pick<CacheTarget, 'get'>;
  truth: TruthSource | undefined;
  expect: ExpectSpec | undefined;
  bucket: TokenBucket;
  counts: { cache: number; truth: number };
}

/** The check context of a run over `options`' config, target, truth and expectations. */
export function checkContext(
  options: CheckSources,
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
export async function checkKey(
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

/** The expected value as the report shows it (null: absent or not a value). */
export function expectedText(e: Expectation | undefined): string | null {
  return e?.kind === 'value' ? e.value : null;
}
