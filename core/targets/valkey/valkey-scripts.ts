/**
 * The server-side scripts of the Valkey adapter: every fenced op is one Lua script over a key and
 * its same-slot siblings (valkey-keys.ts), so it is atomic on a standalone server and in a cluster.
 *
 * Stored state per key K: K = the app's plain value; V = the fencing version as a `versionSortKey`
 * string (byte order = version order, so Lua compares with plain `<`); L = the fill lease token.
 * A tombstone is V without K. V expires with the value it fences (or after the tombstone TTL).
 *
 * Scripts are loaded once per node with SCRIPT LOAD and run with EVALSHA; a NOSCRIPT reply (server
 * restart, failover, SCRIPT FLUSH) makes the adapter load them again and resend (valkey-target.ts).
 */
import { createHash } from 'node:crypto';
import { RESERVED_PREFIX } from './valkey-keys.ts';

/** One script: its source and SHA1 (what EVALSHA names). */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
  /** How many of the arguments are keys (0: it varies per call, the caller passes it). */
  readonly keys: number;
}

function script(name: string, keys: number, lua: string): LuaScript {
  return { name, keys, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * refresh K V L | value ttlMs version → 1 applied, 0 fenced.
 * Applies only when `version` is newer than V (value or tombstone); cancels the fill lease.
 */
export const REFRESH = script(
  'refresh',
  3,
  `local cur = redis.call('GET', KEYS[2])
if cur and cur >= ARGV[3] then return 0 end
if ARGV[2] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[3])
end
redis.call('DEL', KEYS[3])
return 1`,
);

/**
 * invalidate K V L | version tombstoneTtlMs → 1 applied, 0 fenced.
 * Deletes the value and the lease; leaves V as a tombstone for tombstoneTtlMs (0: no tombstone).
 */
export const INVALIDATE = script(
  'invalidate',
  3,
  `local cur = redis.call('GET', KEYS[2])
if cur and cur >= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
if ARGV[2] ~= '0' then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[2])
end
return 1`,
);

/**
 * fill K V L | token value ttlMs version-or-empty → 1 filled, 0 rejected, 2 fenced.
 * An app fill under lease `token`: rejected unless the lease is still held (an invalidation or a
 * refresh deletes it); with a version, fenced when V is as new or newer. A fill without a version
 * keeps V (so a tombstone's fence survives the fill) and keeps V alive at least as long as the value.
 */
export const FILL = script(
  'fill',
  3,
  `if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3])
local cur = redis.call('GET', KEYS[2])
if ARGV[4] ~= '' and cur and cur >= ARGV[4] then return 2 end
if ARGV[3] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
if ARGV[4] ~= '' then
  if ARGV[3] ~= '0' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3]) else redis.call('SET', KEYS[2], ARGV[4]) end
elseif cur then
  local left = redis.call('PTTL', KEYS[2])
  if ARGV[3] == '0' then redis.call('PERSIST', KEYS[2])
  elseif left >= 0 and left < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
end
return 1`,
);

/** release L | token → 1 when the lease was held by `token` and is now given up, else 0. */
export const RELEASE = script(
  'release',
  1,
  `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`,
);

/**
 * write K L | value ttlMs → 1. A plain write (write-through without a version): sets the value,
 * keeps V (fencing survives), cancels the fill lease so no racing fill overwrites it.
 */
export const WRITE = script(
  'write',
  2,
  `if ARGV[2] ~= '0' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('DEL', KEYS[2])
return 1`,
);

/**
 * apply K1 … Kn | kinds tombstoneTtlMs, then per op: [tag], then `i`: version, `r`: version ttlMs value
 * → { codes, error… }: the pipeline's fast path (valkey-batch.ts), n fenced ops in one call.
 *
 * `kinds` has one byte per op (`r` refresh, `i` invalidate); each op has the effect of REFRESH or
 * INVALIDATE above, in order. Only the data key is passed; the script builds its version and
 * lease siblings with the same names as `siblingKey` (valkey-keys.ts) — `__cdc:v:{K}` for a key without
 * braces; for any other key the op's kind is upper case (`R`, `I`) and its first argument is the slot
 * tag, giving `__cdc:vx:{tag}K`. Siblings are in K's slot by construction, so the calls stay
 * single-slot in a cluster (Valkey checks the slot of every key a script touches, declared or not);
 * passing one key instead of three per op takes 40 % of the arguments off every call, which is most
 * of the client's encoding cost. `codes` has one byte per op: `1` applied, `0` fenced, `e` failed,
 * and the error messages follow in op order. Inlined, without a function call or `pcall` per op.
 *
 * Shape (issue 20): the version sibling is read and written by ONE command, `SET V version PX ttl
 * GET` (GETDEL V for an invalidation without tombstones), which answers the old version: an applied
 * refresh is 2 commands (SET…GET, SET K) plus its lease in ONE DEL of every applied refresh's lease
 * at the end of the call, an applied invalidation 2 (SET…GET, DEL K L), instead of 4 and 3. The
 * lease DEL can wait for the end: nothing else in the call reads a lease, and the call is atomic.
 * The `#!lua` first line takes the script out of EVAL's compatibility mode (Valkey/Redis ≥ 7): its
 * flags are known before it runs, so the server checks them once per call (OOM refuses the whole
 * call up front) instead of around every command: about 7 % less server CPU per op, the same as a
 * Valkey function (FCALL) measured side by side, without FUNCTION LOAD's extra lifecycle. The rare fenced op pays instead: it puts the newer version back, with a TTL
 * at least as long as what V fences — the value's remaining TTL (persistent with a persistent
 * value), or the tombstone TTL when that is longer or the value is gone; with tombstones off and the
 * value gone, the refresh's own TTL, and an invalidation leaves V deleted as an applied one would.
 * (V's own earlier TTL is not known after SET … GET; the one case where it could have been longer —
 * a persistent V under a value a plain `write` gave a TTL — ends the fence when the value and the
 * tombstone TTL are both past, as for any expired value.) The data layout is unchanged,
 * so keys written by the earlier shape need no migration. Only the first command can fail for one
 * op (WRONGTYPE on a sibling: SET…GET checks the old value's type before it writes), so only it
 * runs under redis.pcall. What refuses a write (OOM, READONLY, disk error) refuses the script's
 * first write, so such an error aborts the call before it changed anything and the caller fails
 * every op of it, retriably. The caller keeps every key of a call in one slot in a cluster.
 */
export const APPLY = script(
  'apply',
  0,
  `#!lua
local kinds, tomb = ARGV[1], ARGV[2]
local call, pcall, byte = redis.call, redis.pcall, string.byte
local codes, out, a = {}, {''}, 3
local leases, nl = {}, 0
for i = 1, #kinds do
  local key = KEYS[i]
  local b = byte(kinds, i)
  local v, l
  if b < 97 then
    local tag = ARGV[a]
    a = a + 1
    b = b + 32
    v = '${RESERVED_PREFIX}vx:{' .. tag .. '}' .. key
    l = '${RESERVED_PREFIX}lx:{' .. tag .. '}' .. key
  else
    v = '${RESERVED_PREFIX}v:{' .. key .. '}'
    l = '${RESERVED_PREFIX}l:{' .. key .. '}'
  end
  local version = ARGV[a]
  local refresh = b == 114
  local ttl, cur
  if refresh then
    ttl = ARGV[a + 1]
    if ttl ~= '0' then cur = pcall('SET', v, version, 'PX', ttl, 'GET') else cur = pcall('SET', v, version, 'GET') end
  elseif tomb ~= '0' then
    cur = pcall('SET', v, version, 'PX', tomb, 'GET')
  else
    cur = pcall('GETDEL', v)
  end
  if type(cur) == 'table' then
    codes[i] = 'e'
    out[#out + 1] = tostring(cur.err)
  elseif cur and cur >= version then
    local left = call('PTTL', key)
    if left == -1 then
      call('SET', v, cur)
    else
      local keep = tonumber(tomb)
      if left > keep then keep = left end
      if keep > 0 then call('SET', v, cur, 'PX', keep)
      elseif refresh then
        if ttl ~= '0' then call('SET', v, cur, 'PX', ttl) else call('SET', v, cur) end
      end
    end
    codes[i] = '0'
  elseif refresh then
    if ttl ~= '0' then call('SET', key, ARGV[a + 2], 'PX', ttl) else call('SET', key, ARGV[a + 2]) end
    nl = nl + 1
    leases[nl] = l
    codes[i] = '1'
  else
    call('DEL', key, l)
    codes[i] = '1'
  end
  if refresh then a = a + 3 else a = a + 1 end
end
if nl > 0 then call('DEL', unpack(leases, 1, nl)) end
out[1] = table.concat(codes)
return out`,
);

/** The APPLY shape before issue 20 (GET V, then SET/DEL): kept for bench/valkey/fenced-shape.ts. */
export const APPLY_V1 = script(
  'apply-v1',
  0,
  `local kinds, tomb = ARGV[1], ARGV[2]
local call, pcall, byte = redis.call, redis.pcall, string.byte
local codes, out, a = {}, {''}, 3
for i = 1, #kinds do
  local key = KEYS[i]
  local b = byte(kinds, i)
  local v, l
  if b < 97 then
    local tag = ARGV[a]
    a = a + 1
    b = b + 32
    v = '${RESERVED_PREFIX}vx:{' .. tag .. '}' .. key
    l = '${RESERVED_PREFIX}lx:{' .. tag .. '}' .. key
  else
    v = '${RESERVED_PREFIX}v:{' .. key .. '}'
    l = '${RESERVED_PREFIX}l:{' .. key .. '}'
  end
  local version = ARGV[a]
  local refresh = b == 114
  local cur = pcall('GET', v)
  if type(cur) == 'table' then
    codes[i] = 'e'
    out[#out + 1] = tostring(cur.err)
  elseif cur and cur >= version then
    codes[i] = '0'
  elseif refresh then
    local ttl = ARGV[a + 1]
    if ttl ~= '0' then
      call('SET', key, ARGV[a + 2], 'PX', ttl)
      call('SET', v, version, 'PX', ttl)
    else
      call('SET', key, ARGV[a + 2])
      call('SET', v, version)
    end
    call('DEL', l)
    codes[i] = '1'
  else
    call('DEL', key, l)
    if tomb ~= '0' then call('SET', v, version, 'PX', tomb) else call('DEL', v) end
    codes[i] = '1'
  end
  if refresh then a = a + 3 else a = a + 1 end
end
out[1] = table.concat(codes)
return out`,
);

/** Every script the adapter loads on each node. */
export const SCRIPTS: readonly LuaScript[] = [REFRESH, INVALIDATE, FILL, RELEASE, WRITE, APPLY];
