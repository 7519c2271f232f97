/**
 * Leaderboard on a sorted set: ZINCRBY adds points, ZREVRANGE … WITHSCORES reads the top, ZREVRANK
 * a player's place. Runs unchanged on the engine server and on Valkey.
 */
import type { Valkey } from 'iovalkey';

/** One leaderboard row. */
export interface Standing {
  player: string;
  score: number;
}

/** Adds `points` to `player`; returns the new score. */
export async function addPoints(
  client: Valkey,
  board: string,
  player: string,
  points: number,
): Promise<number> {
  return Number(await client.zincrby(board, points, player));
}

/** The `n` best players, best first (ties: the lexicographically greater name first, as Valkey). */
export async function top(client: Valkey, board: string, n: number): Promise<Standing[]> {
  const flat = await client.zrevrange(board, 0, n - 1, 'WITHSCORES');
  const out: Standing[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ player: flat[i]!, score: Number(flat[i + 1]) });
  return out;
}

/** 1-based place of `player`, or null when absent. */
export async function placeOf(client: Valkey, board: string, player: string): Promise<number | null> {
  const rank = await client.zrevrank(board, player);
  return rank === null ? null : rank + 1;
}
