/**
 * Earlier shapes of the Valkey adapter's scripts, kept for the side-by-side benchmark
 * (bench/valkey/fenced-shape.ts) and the upgrade tests (test/integration/valkey/apply-shape.test.ts):
 * what a cluster running an older release holds. Layout 1 = the version in `__cdc:v:{K}`, the fill
 * lease in `__cdc:l:{K}` (core/targets/valkey/valkey-scripts.ts describes layout 2).
 */
import { RESERVED_PREFIX } from '../../core/targets/valkey/valkey-keys.ts';
import { luaScript } from '../../core/targets/valkey/valkey-scripts.ts';

/**
 * apply K1 … Kn | kinds tombstoneTtlMs, ops…: the layout-1 APPLY of the first issue-20 shape
 * (`SET V … GET`, the applied ops' leases in one DEL at the end, `#!lua`).
 */
export const APPLY_L1 = luaScript(
  'apply-l1',
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

/** apply, as before issue 20 (layout 1: GET V, then SET/DEL of value, version and lease; EVAL compatibility mode). */
export const APPLY_V1 = luaScript(
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

/** fill K V L | token value ttlMs version-or-empty: the layout-1 FILL (lease in L, taken with SET L token NX PX). */
export const FILL_L1 = luaScript(
  'fill-l1',
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

/**
 * apply K1 … Kn | kinds tombstoneTtlMs legacyLeases, ops…: the layout-2 APPLY as first released
 * (expiries as `PX ttl`, which the server rewrites into `PXAT` on every SET for replication; `type()`
 * per op). Same data layout and reply as today's APPLY (core/targets/valkey/valkey-scripts.ts).
 */
export const APPLY_L2_PX = luaScript(
  'apply-l2-px',
  0,
  `#!lua
local kinds, tomb, legacy = ARGV[1], ARGV[2], ARGV[3] == '1'
local call, pcall, byte = redis.call, redis.pcall, string.byte
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
  else
    if refresh then
      if ttl ~= '0' then call('SET', key, ARGV[a + 2], 'PX', ttl) else call('SET', key, ARGV[a + 2]) end
    else
      call('DEL', key)
    end
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
