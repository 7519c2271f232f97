/**
 * Bloom filter accuracy and memory: fills engine bloom filters (in-process, through the same value
 * class BF.* uses) and measures the false-positive rate on items never added, against the
 * configured rate, and the bits per element against the theoretical optimum -ln(p)/ln²2.
 *
 *   node bench/engine/bloom-accuracy.ts [items=100000] [probes=1000000]
 */
import { BloomValue } from '../../engine/server/commands/bloom-filter.ts';

const items = Number(process.argv[2] ?? 100_000);
const probes = Number(process.argv[3] ?? 1_000_000);

const rows: string[] = [];
for (const [rate, capacity, expansion, label] of [
  [0.01, items, 0, 'NONSCALING, reserved for all items'],
  [0.01, items, 2, 'scaling, reserved for all items'],
  [0.001, items, 2, 'scaling, reserved for all items'],
  [0.01, Math.max(1, Math.floor(items / 100)), 2, 'scaling from 1% of the items (expansion 2)'],
] as const) {
  const bf = new BloomValue(rate, capacity, expansion);
  for (let i = 0; i < items; i++) if (typeof bf.add(`ip:${i}`) === 'string') throw new Error('add failed');
  let fp = 0;
  for (let i = 0; i < probes; i++) if (bf.has(`probe:${i}`)) fp++;
  const bits = bf.filters.reduce((n, f) => n + f.bits.length * 8, 0);
  const ideal = -Math.log(rate) / (Math.LN2 * Math.LN2);
  rows.push(
    `p=${rate} ${label}: filters=${bf.filters.length} items=${bf.items} fp=${(fp / probes).toFixed(5)} ` +
      `(${(fp / probes / rate).toFixed(2)}x configured) bits/item=${(bits / items).toFixed(2)} ` +
      `(theory ${ideal.toFixed(2)}, ${(bits / items / ideal).toFixed(2)}x)`,
  );
}
console.log(rows.join('\n'));
