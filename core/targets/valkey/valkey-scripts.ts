/**
 * The server-side scripts of the Valkey adapter: every fenced op is one Lua script over a key and
 * its same-slot siblings (valkey-keys.ts), so it is atomic on a standalone server and in a cluster.
 *
 * Stored state per key K (layout 2, issue 20): K = the app's plain value; V = the fence, ONE sibling
 * for the version and the fill lease: `version` (a `versionSortKey` string: byte order = version
 * order, so Lua compares with plain `<`), or `version token expiresAtMs` while a fill lease is held
 * (`version` empty when there is none). A tombstone is V without K. V expires with the value it
 * fences (or after the tombstone TTL); a lease's own end is the server time in it.
 *
 * Why one sibling: an applied refresh or invalidation overwrites V anyway, and that overwrite is
 * what cancels a lease, so the consumer's APPLY touches two keys per op instead of three. A space
 * sorts below every byte of a version, so `V >= version` reads the same with or without a lease in
 * V: scripts written for layout 1 (version only in V, lease in L = `__cdc:l:{K}`) fence and cancel
 * correctly over layout 2, and layout-1 V keys are valid layout-2 V keys (no data migration).
 * Layout-1 leases (L) are still honoured on the app side (taking a lease checks L; writes,
 * invalidations and refreshes delete it) and by APPLY when `legacyLeases` is on: see
 * README.md, "Fence layout and upgrades".
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

/** Builds a script with its SHA1 (what EVALSHA names). */
export function luaScript(name: string, keys: number, lua: string): LuaScript {
  return { name, keys, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Lua helpers of the app-side scripts (also valkey-tag-scripts.ts): `parts(V)` → version, token,
 * expiresAtMs (only the version when no lease is held; nil for no V), `nowMs()` the server's time,
 * `keepVersion(V, version)` gives up a lease, keeping the version and V's TTL.
 */
export const FENCE_LIB = `local function parts(cur)
  if not cur then return nil end
  local ver, tok, exp = string.match(cur, '^([^ ]*) ([^ ]+) (%d+)$')
  if ver then return ver, tok, tonumber(exp) end
  return cur
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function keepVersion(v, ver)
  if ver == '' then redis.call('DEL', v) else redis.call('SET', v, ver, 'KEEPTTL') end
end
`;

/**
 * refresh K V L | value ttlMs version → 1 applied, 0 fenced.
 * Applies only when `version` is newer than V's (value or tombstone); writing V cancels a lease in
 * it, and L (a layout-1 lease) is deleted too.
 */
export const REFRESH = luaScript(
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
 * Deletes the value and any lease; leaves V = version as a tombstone for tombstoneTtlMs (0: none).
 */
export const INVALIDATE = luaScript(
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
 * lease V L | token ttlMs → 1 taken, 0 held by someone else.
 * Writes `version token expiresAtMs` into V, keeping its version; V lives at least as long as the
 * lease. Refused while an unexpired lease is in V, or a layout-1 lease L exists.
 */
export const LEASE = luaScript(
  'lease',
  2,
  `${FENCE_LIB}local cur = redis.call('GET', KEYS[1])
local ver, tok, exp = parts(cur)
local now = nowMs()
if tok and exp > now then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
local held = (ver or '') .. ' ' .. ARGV[1] .. ' ' .. (now + ttl)
local left = cur and redis.call('PTTL', KEYS[1]) or -2
if left == -1 then redis.call('SET', KEYS[1], held)
elseif left >= ttl then redis.call('SET', KEYS[1], held, 'KEEPTTL')
else redis.call('SET', KEYS[1], held, 'PX', ttl) end
return 1`,
);

/** release V | token → 1 when V held the lease `token` and it is now given up (version kept), else 0. */
export const RELEASE = luaScript(
  'release',
  1,
  `${FENCE_LIB}local ver, tok = parts(redis.call('GET', KEYS[1]))
if tok ~= ARGV[1] then return 0 end
keepVersion(KEYS[1], ver)
return 1`,
);

/** drop K V L → 1. An invalidation without a version: deletes the value and any lease, keeps V's version. */
export const DROP = luaScript(
  'drop',
  3,
  `${FENCE_LIB}redis.call('DEL', KEYS[1], KEYS[3])
local ver, tok = parts(redis.call('GET', KEYS[2]))
if tok then keepVersion(KEYS[2], ver) end
return 1`,
);

/**
 * apply K1 … Kn | kinds tombstoneTtlMs legacyLeases, then per op: [tag], then `i`: version, `r`:
 * version ttlMs value → { codes, error… }: the pipeline's fast path (valkey-batch.ts), n fenced ops
 * in one call, each with the effect of REFRESH or INVALIDATE above, in order.
 *
 * `kinds` has one byte per op (`r` refresh, `i` invalidate). Only the data key is passed; the script
 * builds V's name as `siblingKey` does (valkey-keys.ts) — `__cdc:v:{K}` for a key without braces;
 * for any other key the op's kind is upper case (`R`, `I`) and its first argument is the slot tag,
 * giving `__cdc:vx:{tag}K`. V is in K's slot by construction, so calls stay single-slot in a
 * cluster. `codes` has one byte per op: `1` applied, `0` fenced, `e` failed; error messages follow
 * in op order. Inlined, without a function call per op.
 *
 * Shape: V is read and written by ONE command, `SET V version PX ttl GET` (GETDEL V for an
 * invalidation without tombstones), which answers the old V; overwriting V also cancels a fill lease
 * held in it (layout 2, above). So an applied refresh is 2 commands over 2 keys (SET…GET, SET K) and
 * an applied invalidation 2 (SET…GET, DEL K). With `legacyLeases` = `1` (while layout-1 app clients
 * may hold leases in L, during an upgrade) every applied op's L is deleted too, in one DEL at the end
 * of the call (nothing else in the call reads L, and the call is atomic). The `#!lua` first line
 * takes the script out of EVAL's compatibility mode (Valkey/Redis ≥ 7): flags are checked once per
 * call (OOM refuses the whole call up front), not around every command.
 *
 * The rare fenced op pays instead: it puts the old V back (lease included), with a TTL at least as
 * long as what V fences — the value's remaining TTL (persistent with a persistent value), or the
 * tombstone TTL when that is longer or the value is gone; with tombstones off and the value gone,
 * the refresh's own TTL, and an invalidation leaves V deleted as an applied one would. Only the
 * first command can fail for one op (WRONGTYPE on V: SET…GET checks the old value's type before it
 * writes), so only it runs under pcall. What refuses a write (OOM, READONLY, disk error) refuses the
 * script's first write, so it aborts the call before anything changed and the caller fails every op
 * of it, retriably. The caller keeps every key of a call in one slot in a cluster.
 *
 * Expiries are absolute: one `TIME` per call gives `now`, and each distinct TTL of the call becomes
 * `PXAT now+ttl` once (a TTL of more than 15 digits, or not digits, keeps `PX ttl`: exact and with
 * the server's own error). `SET … PX` would cost the same lookups but the server rewrites every such
 * SET into its PXAT form for replication and AOF, whether or not there are replicas; with PXAT it
 * has nothing to rewrite (≈ 15 % of the server's instructions per op, bench/results/valkey.md). The
 * TTL runs from the call's start either way (`PX` counts from the script's start time). The error
 * check is `cur.err` (a string's `err` is nil), not a `type()` call per op.
 */
export const APPLY = luaScript(
  'apply',
  0,
  `#!lua
local kinds, tomb, legacy = ARGV[1], ARGV[2], ARGV[3] == '1'
local call, pcall, byte, find, format = redis.call, redis.pcall, string.byte, string.find, string.format
local t = call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ats = {}
local function at(ttl)
  local x = ats[ttl]
  if x == nil then
    x = #ttl <= 15 and find(ttl, '^%d+$') ~= nil and format('%d', now + tonumber(ttl))
    ats[ttl] = x
  end
  return x
end
local tombAt = tomb ~= '0' and at(tomb)
local codes, out, a = {}, {''}, 4
local leases, nl = {}, 0
for i = 1, #kinds do
  local key = KEYS[i]
  local b = byte(kinds, i)
  local v, tag
  if b < 97 then
    tag = ARGV[a]
    a = a + 1
    b = b + 32
    v = '${RESERVED_PREFIX}vx:{' .. tag .. '}' .. key
  else
    v = '${RESERVED_PREFIX}v:{' .. key .. '}'
  end
  local version = ARGV[a]
  local refresh = b == 114
  local ttl, x, cur
  if refresh then
    ttl = ARGV[a + 1]
    if ttl == '0' then cur = pcall('SET', v, version, 'GET')
    else
      x = ats[ttl]
      if x == nil then x = at(ttl) end
      if x then cur = pcall('SET', v, version, 'PXAT', x, 'GET') else cur = pcall('SET', v, version, 'PX', ttl, 'GET') end
    end
  elseif tombAt then
    cur = pcall('SET', v, version, 'PXAT', tombAt, 'GET')
  elseif tomb ~= '0' then
    cur = pcall('SET', v, version, 'PX', tomb, 'GET')
  else
    cur = pcall('GETDEL', v)
  end
  if cur and cur.err then
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
  else
    if not refresh then call('DEL', key)
    elseif ttl == '0' then call('SET', key, ARGV[a + 2])
    elseif x then call('SET', key, ARGV[a + 2], 'PXAT', x)
    else call('SET', key, ARGV[a + 2], 'PX', ttl) end
    if legacy then
      nl = nl + 1
      if tag then leases[nl] = '${RESERVED_PREFIX}lx:{' .. tag .. '}' .. key else leases[nl] = '${RESERVED_PREFIX}l:{' .. key .. '}' end
    end
    codes[i] = '1'
  end
  if refresh then a = a + 3 else a = a + 1 end
end
if nl > 0 then call('DEL', unpack(leases, 1, nl)) end
out[1] = table.concat(codes)
return out`,
);

/** Every script the adapter loads on each node. */
// App fills and write-through writes use FILL_TAGGED and WRITE_TAGGED (valkey-tag-scripts.ts), tagged or not.
export const SCRIPTS: readonly LuaScript[] = [REFRESH, INVALIDATE, LEASE, RELEASE, DROP, APPLY];
