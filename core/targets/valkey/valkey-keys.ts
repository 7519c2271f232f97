/**
 * Names of the metadata keys the Valkey adapter keeps beside a value ("plain values stay plain":
 * the value key holds exactly the app's bytes; fencing version and fill lease live in the `v`
 * sibling, layout 2 in valkey-scripts.ts; the `l` sibling is the lease of layout 1, still honoured
 * during an upgrade).
 *
 * Invariant: every sibling hashes to the same cluster slot as its key, so one Lua script can touch
 * value, version and lease atomically in a cluster. Two spellings:
 * - a key without braces (the usual case): `__cdc:v:{user:1}` — the hash tag is the whole key;
 * - any other key (it has a hash tag, or a stray brace): `__cdc:vx:{<tag>}<key>` where `<tag>` is a
 *   short string chosen to hash to the key's slot (see slots.ts).
 * The two kinds are distinct prefixes, so no two keys share a sibling. Names starting with `__cdc:`
 * are reserved: the adapter refuses to write them and hides them from dumps.
 */
import { keySlot, slotTag } from './slots.ts';

/** Prefix of every name the adapter owns. */
export const RESERVED_PREFIX = '__cdc:';

/**
 * Sibling kinds: `v` the fence (the version, and a fill lease while one is held: layout 2,
 * valkey-scripts.ts), `l` a layout-1 fill lease; `s` the soft-invalidation mark and `g` the entry's
 * tag versions (docs/soft-invalidation-and-tags.md). A tag's own state uses the same naming over the
 * tag: `te` its epoch, `tm` its members, `tq` the queue of its pending batches and `tb` (suffixed with
 * `:version`) each batch, all in the tag's slot.
 */
export type SiblingKind = 'v' | 'l' | 's' | 'g' | 'te' | 'tm' | 'tq' | 'tb';

function isPlain(key: string): boolean {
  return key.length > 0 && key.indexOf('{') < 0 && key.indexOf('}') < 0;
}

/** The sibling of `key` holding `kind`, in the same slot. */
export function siblingKey(key: string, kind: SiblingKind): string {
  if (isPlain(key)) return `${RESERVED_PREFIX}${kind}:{${key}}`;
  return `${RESERVED_PREFIX}${kind}x:{${slotTag(keySlot(key))}}${key}`;
}

/**
 * The slot tag in the sibling names of `key` (`__cdc:vx:{tag}key`), or null for a key without braces
 * (siblings `__cdc:v:{key}`). What the APPLY script (valkey-scripts.ts) needs to name the siblings.
 */
export function siblingTag(key: string): string | null {
  return isPlain(key) ? null : slotTag(keySlot(key));
}

/** The fence sibling of `key`: its version, and a fill lease while one is held (layout 2). */
export function versionKey(key: string): string {
  return siblingKey(key, 'v');
}

/** The layout-1 lease sibling of `key` (releases before layout 2 kept fill leases there). */
export function leaseKey(key: string): string {
  return siblingKey(key, 'l');
}

/** The soft-invalidation mark of `key` (valid while it equals the version sibling). */
export function staleKey(key: string): string {
  return siblingKey(key, 's');
}

/** The hash of tag → version the entry under `key` is current with. */
export function entryTagsKey(key: string): string {
  return siblingKey(key, 'g');
}

/** The names of a tag's state, all in one slot (docs/soft-invalidation-and-tags.md). */
export interface TagStateKeys {
  /** The epoch: the version of the newest change applied to the tag. */
  epoch: string;
  /** Keys that joined since the last change. */
  members: string;
  /** The queue (a list) of the versions of pending batches, oldest first. */
  queue: string;
  /** The batch of the change at `version`: the members it took, still to be invalidated. */
  batch(version: string): string;
}

/** The names of a tag's state (epoch, members, pending batches), all in one slot. */
export function tagStateKeys(tag: string): TagStateKeys {
  const batchPrefix = siblingKey(tag, 'tb');
  return {
    epoch: siblingKey(tag, 'te'),
    members: siblingKey(tag, 'tm'),
    queue: siblingKey(tag, 'tq'),
    // The suffix follows the hash tag, so every batch shares the tag's slot.
    batch: (version) => `${batchPrefix}:${version}`,
  };
}

/** True for names the adapter owns (never user data). */
export function isReserved(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}

/** The data key a sibling name belongs to, with its kind; null for any other name. */
export function parseSibling(name: string): { key: string; kind: SiblingKind } | null {
  if (!isReserved(name)) return null;
  const rest = name.slice(RESERVED_PREFIX.length);
  const kind = rest[0];
  if (kind !== 'v' && kind !== 'l') return null;
  if (rest.startsWith(`${kind}:{`) && rest.endsWith('}')) return { key: rest.slice(3, -1), kind };
  if (rest.startsWith(`${kind}x:{`)) {
    const close = rest.indexOf('}');
    if (close > 0) return { key: rest.slice(close + 1), kind };
  }
  return null;
}

/** Escapes Valkey glob metacharacters so `prefix` matches literally in SCAN MATCH. */
export function globEscape(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
