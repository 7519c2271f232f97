import { parseMemorySize } from '../../memory.ts';

/**
 * Where small collections stop being compact: Valkey's `*-max-listpack-*` and
 * `set-max-intset-entries` parameters, with Valkey 8's defaults (valkey-config-defaults.ts).
 */

/** The thresholds of the compact encodings (intset, listpack). */
export interface EncodingLimits {
  setMaxIntsetEntries: number;
  setMaxListpackEntries: number;
  setMaxListpackValue: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  /** list-max-listpack-size -2: one listpack of at most 8 KB. */
  listMaxListpackBytes: number;
}

/** Valkey's defaults for the compact encodings. */
export const ENCODING_LIMITS: Readonly<EncodingLimits> = {
  setMaxIntsetEntries: 512,
  setMaxListpackEntries: 128,
  setMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  listMaxListpackBytes: 8192,
};

/** Each Valkey parameter (and its old ziplist alias) and the limit it sets. */
const PARAMS: Record<string, keyof EncodingLimits> = {
  'set-max-intset-entries': 'setMaxIntsetEntries',
  'set-max-listpack-entries': 'setMaxListpackEntries',
  'set-max-listpack-value': 'setMaxListpackValue',
  'zset-max-listpack-entries': 'zsetMaxListpackEntries',
  'zset-max-ziplist-entries': 'zsetMaxListpackEntries',
  'zset-max-listpack-value': 'zsetMaxListpackValue',
  'zset-max-ziplist-value': 'zsetMaxListpackValue',
  'hash-max-listpack-entries': 'hashMaxListpackEntries',
  'hash-max-ziplist-entries': 'hashMaxListpackEntries',
  'hash-max-listpack-value': 'hashMaxListpackValue',
  'hash-max-ziplist-value': 'hashMaxListpackValue',
};

/** Limits changed by CONFIG SET, per server (absent: the defaults). */
const perServer = new WeakMap<object, EncodingLimits>();

/** The limits in force on `server` (the object a command context names as its server). */
export function encodingLimitsOf(server: object): Readonly<EncodingLimits> {
  return perServer.get(server) ?? ENCODING_LIMITS;
}

/**
 * Applies a CONFIG SET of one of the limits' parameters on `server` (other names are ignored).
 * The new limit applies to later writes; existing collections keep their encoding, as in Valkey.
 */
export function configureEncodingLimit(server: object, name: string, value: string): void {
  const field = PARAMS[name];
  const n = parseMemorySize(value);
  if (field === undefined || n === null) return;
  const next = { ...encodingLimitsOf(server) };
  next[field] = n;
  perServer.set(server, next);
}
