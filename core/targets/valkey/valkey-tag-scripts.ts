/**
 * The Lua scripts of soft invalidation and tags on Valkey (docs/soft-invalidation-and-tags.md), kept
 * apart from valkey-scripts.ts so the pipeline's APPLY script stays as it is: soft marks are valid
 * only while they equal the fence's version, so APPLY's refresh/invalidate clear them by moving the
 * version on, and these scripts do the rest. Every script's keys share one slot: an entry's (K and
 * its siblings) or a tag's (its epoch, members, queue and pending batches).
 *
 * The fence V is layout 2 (valkey-scripts.ts): `version`, or `version token expiresAtMs` while a fill
 * lease is held. These scripts read the version out of it (FENCE_LIB's `parts`), honour a lease in it
 * as a fill must, and cancel it as REFRESH/INVALIDATE do (overwriting V, or `keepVersion`); a
 * layout-1 lease L is deleted by everything that cancels leases, as there.
 *
 * Versions are `versionSortKey` strings (byte order = version order; '' = none).
 */
import { FENCE_LIB, type LuaScript, luaScript as script } from './valkey-scripts.ts';

/**
 * soft-invalidate K V L S | version tombstoneTtlMs → 1 applied, 0 fenced.
 * Fenced when V's version is as new. A present value is kept: V and the mark S become `version`,
 * living as long as the value (at least the tombstone TTL); overwriting V cancels a lease held in it,
 * and L goes too; the value is rewritten as it is, so tracking clients drop it. An absent value: an
 * invalidate.
 */
export const SOFT_INVALIDATE = script(
  'soft-invalidate',
  4,
  `${FENCE_LIB}local ver = parts(redis.call('GET', KEYS[2]))
if ver and ver >= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
local tomb = tonumber(ARGV[2])
redis.call('DEL', KEYS[3])
if left == -2 then
  redis.call('DEL', KEYS[4])
  if tomb > 0 then redis.call('SET', KEYS[2], ARGV[1], 'PX', tomb) else redis.call('DEL', KEYS[2]) end
  return 1
end
-- Rewrite the value in place (same bytes, same TTL): clients tracking K (CLIENT TRACKING, near
-- caches) are told it changed, which a write of the siblings alone would not do.
if redis.call('TYPE', KEYS[1]).ok == 'string' then
  redis.call('SET', KEYS[1], redis.call('GET', KEYS[1]), 'KEEPTTL')
end
if left == -1 then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('SET', KEYS[4], ARGV[1])
else
  if tomb > left then left = tomb end
  redis.call('SET', KEYS[2], ARGV[1], 'PX', left)
  redis.call('SET', KEYS[4], ARGV[1], 'PX', left)
end
return 1`,
);

// Shared tail of a fill or write: the entry's tag versions (ARGV from `first` on: tag, epoch pairs)
// into G, which lives at least as long as the value.
const RECORD_TAGS = (first: number, ttlArg: number) => `if #ARGV >= ${first} then
  local existed = redis.call('EXISTS', KEYS[5])
  for i = ${first}, #ARGV, 2 do redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1]) end
  local ttl = ARGV[${ttlArg}]
  if ttl == '0' then redis.call('PERSIST', KEYS[5])
  else
    local left = redis.call('PTTL', KEYS[5])
    if existed == 0 or (left >= 0 and left < tonumber(ttl)) then redis.call('PEXPIRE', KEYS[5], ttl) end
  end
end`;

// Shared tag fence: a tag invalidated for this key after the epoch the load (or write) saw; `fenced`
// is the Lua that ends the script then.
const TAG_FENCE = (first: number, fenced: string) => `for i = ${first}, #ARGV, 2 do
  local seen = redis.call('HGET', KEYS[5], ARGV[i])
  if seen and seen > ARGV[i + 1] then ${fenced} end
end`;

/**
 * fill K V L S G | token value ttlMs version-or-empty [tag epoch …] → 1 filled, 0 rejected, 2 fenced.
 * An app fill under lease `token`: rejected unless V still holds that lease, unexpired (an
 * invalidation or a refresh overwrites V, cancelling it). The lease is used up either way; with a
 * version, fenced when V's is as new or newer, and by the tags' versions in G. A fill without a
 * version keeps V's version (so a tombstone's fence survives the fill) and keeps V alive at least as
 * long as the value. Clears the soft mark and records the tags. Used for every app fill, tagged or
 * not, so an unversioned fill clears a soft mark. L is not read (a
 * layout-2 client never holds one; taking the lease checked it).
 */
export const FILL_TAGGED = script(
  'fill-tagged',
  5,
  `${FENCE_LIB}local ver, tok, exp = parts(redis.call('GET', KEYS[2]))
if tok ~= ARGV[1] or exp <= nowMs() then return 0 end
if ARGV[4] ~= '' and ver ~= '' and ver >= ARGV[4] then keepVersion(KEYS[2], ver) return 2 end
${TAG_FENCE(5, 'keepVersion(KEYS[2], ver) return 2')}
if ARGV[3] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
if ARGV[4] ~= '' then
  if ARGV[3] ~= '0' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3]) else redis.call('SET', KEYS[2], ARGV[4]) end
elseif ver ~= '' then
  redis.call('SET', KEYS[2], ver, 'KEEPTTL')
  local left = redis.call('PTTL', KEYS[2])
  if ARGV[3] == '0' then redis.call('PERSIST', KEYS[2])
  elseif left >= 0 and left < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
else
  redis.call('DEL', KEYS[2])
end
redis.call('DEL', KEYS[4])
${RECORD_TAGS(5, 3)}
return 1`,
);

/**
 * write K V L S G | value ttlMs version-or-empty [tag epoch …] → 1 applied, 0 fenced.
 * A write-through write: fenced by the tags' versions in G and, with a version, by V's version (then
 * V becomes the version, as REFRESH, which cancels a lease in it); keeps V's version otherwise,
 * giving up a lease held in it, so no racing fill overwrites the write. Deletes L and the soft mark, records the tags.
 */
export const WRITE_TAGGED = script(
  'write-tagged',
  5,
  `${FENCE_LIB}${TAG_FENCE(4, 'return 0')}
local ver, tok = parts(redis.call('GET', KEYS[2]))
if ARGV[3] ~= '' then
  if ver and ver >= ARGV[3] then return 0 end
  if ARGV[2] ~= '0' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2]) else redis.call('SET', KEYS[2], ARGV[3]) end
elseif tok then
  keepVersion(KEYS[2], ver)
end
if ARGV[2] ~= '0' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('DEL', KEYS[3], KEYS[4])
${RECORD_TAGS(4, 2)}
return 1`,
);

/**
 * join M E | key memberTtlMs → the tag's epoch ('' when none). Adds `key` to the members; the set
 * lives as long as its longest-lived member could (0 = no expiry).
 */
export const TAG_JOIN = script(
  'tag-join',
  2,
  `local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '0' then redis.call('PERSIST', KEYS[1])
else
  local left = redis.call('PTTL', KEYS[1])
  if existed == 0 or (left >= 0 and left < tonumber(ARGV[2])) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
return redis.call('GET', KEYS[2]) or ''`,
);

/**
 * bump E M Q B | version tombstoneTtlMs → 1 applied, 0 fenced.
 * Unless the epoch E is as new (fenced), E becomes `version` (for the tombstone TTL) and the members M
 * become the pending batch B of `version` (RENAME: O(1) however many there are; merged in the rare
 * case B exists, when an expired epoch let a version come again), queued on Q.
 */
export const TAG_BUMP = script(
  'tag-bump',
  4,
  `local cur = redis.call('GET', KEYS[1])
if cur and cur >= ARGV[1] then return 0 end
local tomb = tonumber(ARGV[2])
if tomb < 1 then tomb = 1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tomb)
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('SUNIONSTORE', KEYS[4], KEYS[4], KEYS[2])
    redis.call('DEL', KEYS[2])
  else
    redis.call('RENAME', KEYS[2], KEYS[4])
  end
  redis.call('RPUSH', KEYS[3], ARGV[1])
end
return 1`,
);

/**
 * tag-keys (K V L S G)… | tag version tombstoneTtlMs soft → { 1 removed (or marked) | 0 fenced, … },
 * one per entry: a page's entries in one call (every key of one slot: one call per slot in a
 * cluster, per chunk of the page on a standalone server). Per entry: fenced when G says the entry is
 * current with `version` for the tag; otherwise records `version` for the tag in G (at least the
 * tombstone TTL), so a fill that loaded before the change is fenced, and gives up a lease held in V
 * (its version kept; L deleted). Then, hard: deletes the value and its soft mark. Soft (`soft` =
 * '1') with a value present: keeps it and marks it stale at its own version (V, '' when it has none,
 * lives as long as the value), rewriting it in place so tracking clients drop it;
 * stale-while-revalidate clients serve it while one reloads.
 */
export const TAG_KEYS = script(
  'tag-keys',
  0,
  `${FENCE_LIB}local tag, version, soft = ARGV[1], ARGV[2], ARGV[4]
local tomb = tonumber(ARGV[3])
if tomb < 1 then tomb = 1 end
local function tagKey(k, v, l, s, g)
  local seen = redis.call('HGET', g, tag)
  if seen and seen >= version then return 0 end
  local cur = redis.call('GET', v)
  local ver, tok = parts(cur)
  if soft == '1' and redis.call('TYPE', k).ok == 'string' then
    redis.call('DEL', l)
    local left = redis.call('PTTL', k)
    ver = ver or ''
    if not cur or tok then
      if left > 0 then redis.call('SET', v, ver, 'PX', left)
      elseif cur then redis.call('SET', v, ver, 'KEEPTTL')
      else redis.call('SET', v, ver) end
    end
    local vleft = redis.call('PTTL', v)
    if left == -1 then redis.call('PERSIST', v)
    elseif vleft >= 0 and vleft < left then redis.call('PEXPIRE', v, left) end
    if left > 0 then redis.call('SET', s, ver, 'PX', left) else redis.call('SET', s, ver) end
    redis.call('SET', k, redis.call('GET', k), 'KEEPTTL')
  else
    redis.call('DEL', k, s, l)
    if tok then keepVersion(v, ver) end
  end
  -- G's life before the HSET (-2: it is new); the HSET leaves it as it was.
  local gleft = redis.call('PTTL', g)
  redis.call('HSET', g, tag, version)
  if gleft == -2 or (gleft >= 0 and gleft < tomb) then redis.call('PEXPIRE', g, tomb) end
  return 1
end
local out = {}
for i = 1, #KEYS, 5 do
  out[#out + 1] = tagKey(KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], KEYS[i + 4])
end
return out`,
);

/**
 * tag-batch-done B Q M | version soft key [key …] → keys left in the batch. Removes the keys from
 * batch B (of `version`); an empty batch leaves the queue Q. Soft (`soft` = '1'): the keys join the
 * members M again (for at least B's remaining life), since their values stay and a later hard change of
 * the tag must still reach them.
 */
export const TAG_BATCH_DONE = script(
  'tag-batch-done',
  3,
  `if #ARGV > 2 then
  if ARGV[2] == '1' then
    local left = redis.call('PTTL', KEYS[1])
    local existed = redis.call('EXISTS', KEYS[3])
    redis.call('SADD', KEYS[3], unpack(ARGV, 3))
    if left == -1 then redis.call('PERSIST', KEYS[3])
    elseif left > 0 then
      local mleft = redis.call('PTTL', KEYS[3])
      if existed == 0 or (mleft >= 0 and mleft < left) then redis.call('PEXPIRE', KEYS[3], left) end
    end
  end
  redis.call('SREM', KEYS[1], unpack(ARGV, 3))
end
local left = redis.call('SCARD', KEYS[1])
if left == 0 then redis.call('LREM', KEYS[2], 0, ARGV[1]) end
return left`,
);

/**
 * read-entry K V S → nil, or { value, pttl, stale (1|0) }: a cache read in one atomic step (the app's
 * reads and a near cache's tracked reads: the GETs inside are tracked for the calling connection).
 * Stale when the soft mark S equals V's version (the part before a fill lease held in V).
 */
export const READ_ENTRY = script(
  'read-entry',
  3,
  `local v = redis.call('GET', KEYS[1])
if not v then return nil end
local ttl = redis.call('PTTL', KEYS[1])
local stale = 0
local mark = redis.call('GET', KEYS[3])
if mark then
  local fence = redis.call('GET', KEYS[2])
  if fence and string.match(fence, '^[^ ]*') == mark then stale = 1 end
end
return {v, ttl, stale}`,
);

/** Every script of this file (loaded on each node with the others: valkey-runner.ts). */
export const TAG_SCRIPTS: readonly LuaScript[] = [
  SOFT_INVALIDATE,
  FILL_TAGGED,
  WRITE_TAGGED,
  TAG_JOIN,
  TAG_BUMP,
  TAG_KEYS,
  TAG_BATCH_DONE,
  READ_ENTRY,
];
