/**
 * Bloom filter commands, as valkey-bloom 1.0 answers them: BF.RESERVE BF.ADD BF.MADD BF.EXISTS
 * BF.MEXISTS BF.INSERT BF.INFO BF.CARD. Filters are ordinary keys (TYPE `bloomfltr`): TTL, DEL,
 * eviction, memory accounting, WATCH and COPY apply. BF.ADD/BF.MADD create a filter with the
 * defaults (capacity 100, error rate 0.01, expansion 2) when the key is absent.
 */
import { Kind } from '../../keyspace.ts';
import { type CommandContext, type CommandSpec, command, Err, ReplyError } from '../command-context.ts';
import { BLOOM_DEFAULTS, BloomValue } from './bloom-filter.ts';
import { findCollection, finishWrite, openCollection, valueAt } from './collections.ts';

const E = {
  notFound: 'ERR not found',
  exists: 'ERR item exists',
  badExpansion: 'ERR bad expansion',
  badCapacity: 'ERR bad capacity',
  badErrorRate: 'ERR bad error rate',
  rateRange: 'ERR (0 < error rate range < 1)',
  capacityZero: 'ERR (capacity should be larger than 0)',
  unknownArgument: 'ERR unknown argument received',
  invalidInfo: 'ERR invalid information value',
  error: 'ERROR',
} as const;

function parseRate(s: string): number {
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : Number.NaN;
  if (Number.isNaN(n)) throw new ReplyError(E.badErrorRate);
  if (!(n > 0 && n < 1)) throw new ReplyError(E.rateRange);
  return n;
}

function parseCapacity(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new ReplyError(E.badCapacity);
  const n = Number(s);
  if (n === 0) throw new ReplyError(E.capacityZero);
  if (n < 1 || n > 2 ** 32 - 1) throw new ReplyError(E.badCapacity);
  return n;
}

function parseExpansion(s: string): number {
  if (!/^\d+$/.test(s)) throw new ReplyError(E.badExpansion);
  const n = Number(s);
  if (n < 1 || n > BLOOM_DEFAULTS.maxExpansion) throw new ReplyError(E.badExpansion);
  return n;
}

function create(rate: number, capacity: number, expansion: number): BloomValue {
  const tooBig = BloomValue.check(capacity, rate);
  if (tooBig !== null) throw new ReplyError(tooBig);
  return new BloomValue(rate, capacity, expansion);
}

function reserve(ctx: CommandContext, a: string[]): void {
  if (a.length < 4 || a.length > 6) throw new ReplyError(Err.arity('bf.reserve'));
  const rate = parseRate(a[2]!);
  const capacity = parseCapacity(a[3]!);
  let expansion: number = BLOOM_DEFAULTS.expansion;
  if (a.length > 4) {
    const opt = a[4]!.toUpperCase();
    if (opt === 'NONSCALING' && a.length === 5) expansion = 0;
    else if (opt === 'EXPANSION' && a.length === 6) expansion = parseExpansion(a[5]!);
    else throw new ReplyError(E.error);
  }
  if (findCollection(ctx, a[1]!, Kind.Bloom) >= 0) throw new ReplyError(E.exists);
  const value = create(rate, capacity, expansion);
  const slot = openCollection(ctx, a[1]!, Kind.Bloom, () => value);
  finishWrite(ctx, slot, 1, true);
  ctx.w.simple('OK');
}

/** Adds items to the filter at `slot`; replies an integer (single) or an array (multi). */
function addItems(ctx: CommandContext, slot: number, items: string[], multi: boolean): void {
  const bf = valueAt<BloomValue>(ctx, slot);
  const results: (number | string)[] = [];
  for (const item of items) {
    const r = bf.add(item);
    results.push(r);
    if (typeof r === 'string') break;
  }
  finishWrite(ctx, slot, 1, results.includes(1));
  if (!multi) {
    const r = results[0]!;
    if (typeof r === 'string') throw new ReplyError(r);
    ctx.w.int(r);
    return;
  }
  ctx.w.array(results.length);
  for (const r of results) {
    if (typeof r === 'string') ctx.w.error(r);
    else ctx.w.int(r);
  }
}

function defaults(): BloomValue {
  return create(BLOOM_DEFAULTS.errorRate, BLOOM_DEFAULTS.capacity, BLOOM_DEFAULTS.expansion);
}

function add(multi: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    const slot = openCollection(ctx, a[1]!, Kind.Bloom, defaults);
    addItems(ctx, slot, a.slice(2), multi);
  };
}

function exists(multi: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    const slot = findCollection(ctx, a[1]!, Kind.Bloom);
    const bf = slot < 0 ? null : valueAt<BloomValue>(ctx, slot);
    if (!multi) {
      ctx.w.int(bf?.has(a[2]!) ? 1 : 0);
      return;
    }
    ctx.w.array(a.length - 2);
    for (let i = 2; i < a.length; i++) ctx.w.int(bf?.has(a[i]!) ? 1 : 0);
  };
}

function insert(ctx: CommandContext, a: string[]): void {
  let rate: number = BLOOM_DEFAULTS.errorRate;
  let capacity: number = BLOOM_DEFAULTS.capacity;
  let expansion: number = BLOOM_DEFAULTS.expansion;
  let nocreate = false;
  let itemsAt = a.length;
  let itemsGiven = false;
  const arity = new ReplyError(Err.arity('bf.insert'));
  for (let i = 2; i < a.length; i++) {
    const opt = a[i]!.toUpperCase();
    const needsValue = ['ERROR', 'CAPACITY', 'EXPANSION', 'TIGHTENING', 'SEED'].includes(opt);
    if (needsValue && i >= a.length - 1) throw arity;
    if (opt === 'ERROR') rate = parseRate(a[++i]!);
    else if (opt === 'CAPACITY') capacity = parseCapacity(a[++i]!);
    else if (opt === 'EXPANSION') expansion = parseExpansion(a[++i]!);
    else if (opt === 'NONSCALING') expansion = 0;
    else if (opt === 'NOCREATE') nocreate = true;
    else if (opt === 'ITEMS') {
      itemsAt = i + 1;
      itemsGiven = true;
      break;
    } else throw new ReplyError(E.unknownArgument);
  }
  if (itemsGiven && itemsAt === a.length) throw arity;
  let slot = findCollection(ctx, a[1]!, Kind.Bloom);
  if (slot < 0) {
    if (nocreate) throw new ReplyError(E.notFound);
    const value = create(rate, capacity, expansion);
    slot = openCollection(ctx, a[1]!, Kind.Bloom, () => value);
  }
  addItems(ctx, slot, a.slice(itemsAt), true);
}

function info(ctx: CommandContext, a: string[]): void {
  if (a.length > 3) throw new ReplyError(Err.arity('bf.info'));
  const slot = findCollection(ctx, a[1]!, Kind.Bloom);
  if (slot < 0) throw new ReplyError(E.notFound);
  const bf = valueAt<BloomValue>(ctx, slot);
  const expansion = (): void => {
    if (bf.expansion === 0) ctx.w.nil();
    else ctx.w.int(bf.expansion);
  };
  if (a.length === 3) {
    switch (a[2]!.toUpperCase()) {
      case 'CAPACITY':
        ctx.w.int(bf.capacity);
        return;
      case 'SIZE':
        ctx.w.int(bf.size);
        return;
      case 'FILTERS':
        ctx.w.int(bf.filters.length);
        return;
      case 'ITEMS':
        ctx.w.int(bf.items);
        return;
      case 'EXPANSION':
        expansion();
        return;
      default:
        throw new ReplyError(E.invalidInfo);
    }
  }
  ctx.w.array(10);
  ctx.w.simple('Capacity');
  ctx.w.int(bf.capacity);
  ctx.w.simple('Size');
  ctx.w.int(bf.size);
  ctx.w.simple('Number of filters');
  ctx.w.int(bf.filters.length);
  ctx.w.simple('Number of items inserted');
  ctx.w.int(bf.items);
  ctx.w.simple('Expansion rate');
  expansion();
}

function card(ctx: CommandContext, a: string[]): void {
  const slot = findCollection(ctx, a[1]!, Kind.Bloom);
  ctx.w.int(slot < 0 ? 0 : valueAt<BloomValue>(ctx, slot).items);
}

const one = [1, 1, 1] as const;

/** The bloom filter command specs. */
export const bloomCommands: CommandSpec[] = [
  command('bf.reserve', -4, ['write', 'denyoom', 'fast'], one, reserve),
  command('bf.add', 3, ['write', 'denyoom', 'fast'], one, add(false)),
  command('bf.madd', -3, ['write', 'denyoom', 'fast'], one, add(true)),
  command('bf.exists', 3, ['readonly', 'fast'], one, exists(false)),
  command('bf.mexists', -3, ['readonly', 'fast'], one, exists(true)),
  command('bf.insert', -2, ['write', 'denyoom', 'fast'], one, insert),
  command('bf.info', -2, ['readonly', 'fast'], one, info),
  command('bf.card', 2, ['readonly', 'fast'], one, card),
];
