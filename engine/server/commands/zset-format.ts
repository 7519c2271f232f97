/**
 * Score parsing and formatting exactly as Valkey 8 does it: scores are parsed like strtod (no
 * leading/trailing space, no NaN) and replied with `d2string`: integral values below 2^63 as
 * integers, others with fpconv's shortest round-trip digits (plain up to 7 trailing zeros or 6
 * leading decimal zeros, otherwise `1.5e+19` / `1.2345e-4`).
 */
import { Err, parseFloatStrict, ReplyError } from '../command-context.ts';
import type { ReplyWriter } from '../reply-writer.ts';

const TWO_63 = 2 ** 63;

/** Valkey's text for a score. */
export function formatScore(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return 'inf';
  if (n === Number.NEGATIVE_INFINITY) return '-inf';
  if (Number.isInteger(n) && n > -TWO_63 && n < TWO_63) return BigInt(n).toString();
  const neg = n < 0;
  const e = Math.abs(n).toExponential();
  const at = e.indexOf('e');
  const digits = e.slice(0, at).replace('.', '');
  const nd = digits.length;
  const K = Number(e.slice(at + 1)) - (nd - 1);
  const exp = Math.abs(K + nd - 1);
  let out: string;
  if (K >= 0 && exp < nd + 7) out = digits + '0'.repeat(K);
  else if (K < 0 && (K > -7 || exp < 4)) {
    const offset = nd + K;
    out =
      offset <= 0
        ? `0.${'0'.repeat(-offset)}${digits}`
        : `${digits.slice(0, offset)}.${digits.slice(offset)}`;
  } else {
    out = `${digits[0]}${nd > 1 ? `.${digits.slice(1)}` : ''}e${K + nd - 1 < 0 ? '-' : '+'}${exp}`;
  }
  return neg ? `-${out}` : out;
}

/** Parses a score argument (throws `ERR value is not a valid float`). */
export function scoreArg(s: string): number {
  const n = parseFloatStrict(s);
  if (n === null || Number.isNaN(n)) throw new ReplyError(Err.notFloat);
  return n;
}

/** Writes a score (double in RESP3, bulk string in RESP2). */
export function writeScore(w: ReplyWriter, n: number): void {
  w.double(formatScore(n));
}

/**
 * Writes `members` (with `scores` when given) as ZRANGE does: RESP2 a flat array, RESP3 with scores
 * an array of [member, score] pairs.
 */
export function writeMembers(w: ReplyWriter, members: string[], scores: number[] | null): void {
  if (scores === null) {
    w.array(members.length);
    for (const m of members) w.bulk(m);
    return;
  }
  if (w.resp === 3) {
    w.array(members.length);
    for (let i = 0; i < members.length; i++) {
      w.array(2);
      w.bulk(members[i]!);
      writeScore(w, scores[i]!);
    }
    return;
  }
  w.array(members.length * 2);
  for (let i = 0; i < members.length; i++) {
    w.bulk(members[i]!);
    writeScore(w, scores[i]!);
  }
}
