/**
 * The `numkeys key…` arguments of the multi-key set and sorted-set commands, with Valkey's errors
 * (which differ between the set and the sorted-set families): ZUNION/ZINTER/ZDIFF and their STORE
 * forms, ZINTERCARD and SINTERCARD with LIMIT.
 */
import { Err, parseI64, ReplyError } from '../command-context.ts';

/** The sorted-set family's numkeys at `a[at]` (`name` is the command, for Valkey's message). */
export function zsetNumkeys(a: string[], at: number, name: string): number {
  const n = parseI64(a[at]!);
  if (n === null) throw new ReplyError(Err.notInteger);
  if (n < 1n) throw new ReplyError(`ERR at least 1 input key is needed for '${name}' command`);
  if (n > BigInt(a.length - at - 1)) throw new ReplyError(Err.syntax);
  return Number(n);
}

/** Parses `numkeys key… [LIMIT n]` (SINTERCARD, ZINTERCARD); returns keys and limit (0 = none). */
export function parseCardArgs(a: string[], zset = false): { keys: string[]; limit: number } {
  let numkeys: number;
  if (zset) numkeys = zsetNumkeys(a, 1, 'zintercard');
  else {
    const n = parseI64(a[1]!);
    if (n === null || n <= 0n) throw new ReplyError('ERR numkeys should be greater than 0');
    if (n > BigInt(a.length - 2))
      throw new ReplyError("ERR Number of keys can't be greater than number of args");
    numkeys = Number(n);
  }
  const keys = a.slice(2, 2 + numkeys);
  let limit = 0;
  for (let i = 2 + numkeys; i < a.length; i++) {
    if (a[i]!.toLowerCase() === 'limit' && i + 1 < a.length) {
      const l = parseI64(a[++i]!);
      if (l === null || l < 0n) throw new ReplyError("ERR LIMIT can't be negative");
      limit = Number(l);
    } else throw new ReplyError(Err.syntax);
  }
  return { keys, limit };
}
