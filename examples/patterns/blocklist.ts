/**
 * IP blocklist on a bloom filter (the engine's BF.* commands, or Valkey with the valkey-bloom
 * module): "not in the filter" is certain, "in the filter" is probable, so a hit is confirmed
 * against the exact list (here a set) before blocking.
 */
import type { Valkey } from 'iovalkey';

/** Creates the filter for `capacity` addresses at false-positive rate `errorRate`. */
export async function createBlocklist(
  client: Valkey,
  name: string,
  capacity: number,
  errorRate: number,
): Promise<void> {
  await client.call('BF.RESERVE', `${name}:bf`, String(errorRate), String(capacity));
}

/** Blocks addresses (filter and exact set). */
export async function block(client: Valkey, name: string, ips: string[]): Promise<void> {
  await client
    .multi()
    .call('BF.MADD', `${name}:bf`, ...ips)
    .sadd(`${name}:exact`, ...ips)
    .exec();
}

/** True when `ip` is blocked; the exact set is read only when the filter says "maybe". */
export async function isBlocked(client: Valkey, name: string, ip: string): Promise<boolean> {
  if (Number(await client.call('BF.EXISTS', `${name}:bf`, ip)) === 0) return false;
  return (await client.sismember(`${name}:exact`, ip)) === 1;
}
