import { CMSGPACK_LUA } from './lua-cmsgpack.ts';
import { STRUCT_LUA } from './lua-struct.ts';

/**
 * The Lua source run once in every new script VM, before any user script: the Lua 5.1 names Valkey
 * scripts use that Lua 5.4 dropped (`unpack`, `loadstring`, `math.pow`, `table.getn`, …), the `bit`
 * library (LuaBitOp's 32-bit semantics), the `redis`/`server` table's pure-Lua helpers, Valkey's
 * error handler, and the global protection (reading an unknown global or assigning any global is an
 * error, with Valkey's messages). The JS side provides `__call`, `__pcall`, `__sha1hex`, `__log`,
 * `__setresp` and `__acl_check` as globals before this runs; the prelude moves them into `redis`.
 *
 * It returns four values the runner keeps: the error handler (pcall's message handler), the EVAL
 * script environment (the read-only proxy every EVAL chunk gets as its `_ENV`), the function
 * library environment, and `load_library(chunk)` (runs a library's code; returns what it
 * registered, or nil and the error).
 */
export const PRELUDE = String.raw`
local G = _G
local dbg = debug
local tointeger = math.tointeger
local floor = math.floor

-- Lua 5.1 names.
_VERSION = 'Lua 5.1'
unpack = table.unpack
loadstring = function(s, name) return load(s, name, 't') end
math.pow = function(x, y) return x ^ y end
math.mod = math.fmod
math.atan2 = function(y, x) return math.atan(y, x) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m = m / 2; e = e + 1 elseif math.abs(m) < 0.5 then m = m * 2; e = e - 1 end
  return m, e
end
math.log10 = function(x) return math.log(x, 10) end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
table.getn = function(t) return #t end
table.setn = function() error("'setn' is obsolete", 2) end
table.maxn = function(t)
  local n = 0
  for k in pairs(t) do if type(k) == 'number' and k > n then n = k end end
  return n
end
table.foreach = function(t, f)
  for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end
end
table.foreachi = function(t, f)
  for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end
end
string.gfind = string.gmatch
gcinfo = function() return floor(collectgarbage('count')) end

-- LuaBitOp: operands wrap to signed 32-bit integers.
local function tobit(x)
  local n = tointeger(x) or floor(x)
  n = n & 0xffffffff
  if n >= 0x80000000 then n = n - 0x100000000 end
  return n
end
local function u32(x) return tobit(x) & 0xffffffff end
bit = {
  tobit = tobit,
  bnot = function(x) return tobit(~u32(x)) end,
  band = function(x, ...) local r = u32(x) for _, v in ipairs({...}) do r = r & u32(v) end return tobit(r) end,
  bor = function(x, ...) local r = u32(x) for _, v in ipairs({...}) do r = r | u32(v) end return tobit(r) end,
  bxor = function(x, ...) local r = u32(x) for _, v in ipairs({...}) do r = r ~ u32(v) end return tobit(r) end,
  lshift = function(x, n) return tobit(u32(x) << (u32(n) & 31)) end,
  rshift = function(x, n) return tobit(u32(x) >> (u32(n) & 31)) end,
  arshift = function(x, n) return tobit(tobit(x) >> (u32(n) & 31) | (tobit(x) < 0 and ~(0xffffffff >> (u32(n) & 31)) or 0)) end,
  rol = function(x, n) n = u32(n) & 31 local v = u32(x) return tobit((v << n) | (v >> (32 - n))) end,
  ror = function(x, n) n = u32(n) & 31 local v = u32(x) return tobit((v >> n) | (v << (32 - n))) end,
  bswap = function(x)
    local v = u32(x)
    return tobit(((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24))
  end,
  tohex = function(x, n)
    n = n or 8
    local up = n < 0
    if up then n = -n end
    local s = string.format(up and '%08X' or '%08x', u32(x))
    return s:sub(-n)
  end,
}

-- cjson (Valkey's lua-cjson 2.1, the parts scripts use): encode, decode, null.
do
  local null = __cjson_null
  __cjson_null = nil
  local utf8char = utf8.char
  local fmt, byte, sub, find, concat = string.format, string.byte, string.sub, string.find, table.concat
  local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
  local function esc(c) return ESC[c] or fmt('\\u%04x', byte(c)) end
  local encode
  local function encode_table(t, depth, out)
    if depth > 1000 then error('Cannot serialise, excessive nesting (1001)', 0) end
    local n, max, keys = 0, 0, true
    for k in pairs(t) do
      if math.type(k) == 'integer' and k > 0 or (type(k) == 'number' and k > 0 and k == floor(k)) then
        n = n + 1
        if k > max then max = k end
      else
        keys = false
        break
      end
    end
    if keys and n > 0 then
      if max > n * 2 and max > 10 then error('Cannot serialise table: excessively sparse array', 0) end
      out[#out + 1] = '['
      for i = 1, max do
        if i > 1 then out[#out + 1] = ',' end
        encode(t[i], depth + 1, out)
      end
      out[#out + 1] = ']'
      return
    end
    out[#out + 1] = '{'
    local first = true
    for k, v in pairs(t) do
      local tk = type(k)
      if tk ~= 'string' and tk ~= 'number' then error('Cannot serialise table: table key must be a number or string', 0) end
      if not first then out[#out + 1] = ',' end
      first = false
      encode(tk == 'number' and fmt('%.14g', k) or k, depth + 1, out)
      out[#out + 1] = ':'
      encode(v, depth + 1, out)
    end
    out[#out + 1] = '}'
  end
  encode = function(v, depth, out)
    local t = type(v)
    if t == 'string' then out[#out + 1] = '"' .. v:gsub('[%c"\\/]', esc) .. '"'
    elseif t == 'number' then
      if v ~= v or v == math.huge or v == -math.huge then error('Cannot serialise number: must not be NaN or Inf', 0) end
      out[#out + 1] = fmt('%.14g', v)
    elseif t == 'boolean' then out[#out + 1] = v and 'true' or 'false'
    elseif t == 'nil' or v == null then out[#out + 1] = 'null'
    elseif t == 'table' then encode_table(v, depth, out)
    else error('Cannot serialise ' .. t .. ': type not supported', 0) end
  end
  local decode_value
  local function ws(s, i) local _, e = find(s, '^[ \n\r\t]*', i) return e + 1 end
  local TOKENS = { ['{'] = 'T_OBJ_BEGIN', ['}'] = 'T_OBJ_END', ['['] = 'T_ARR_BEGIN', [']'] = 'T_ARR_END', [','] = 'T_COMMA', [':'] = 'T_COLON', ['"'] = 'T_STRING' }
  local function token(s, i)
    local c = sub(s, i, i)
    if c == '' then return 'T_END' end
    if TOKENS[c] then return TOKENS[c] end
    if find(c, '^[-%d]') then return 'T_NUMBER' end
    if sub(s, i, i + 3) == 'true' or sub(s, i, i + 4) == 'false' then return 'T_BOOLEAN' end
    if sub(s, i, i + 3) == 'null' then return 'T_NULL' end
    return 'invalid token'
  end
  local function bad(what, i, s) error(fmt('Expected %s but found %s at character %d', what, s and token(s, i) or 'invalid token', i), 0) end
  local function decode_string(s, i)
    local out, j = {}, i + 1
    while true do
      local a, b = find(s, '^[^"\\]+', j)
      if a then out[#out + 1] = sub(s, a, b) j = b + 1 end
      local c = sub(s, j, j)
      if c == '"' then return concat(out), j + 1 end
      if c == '' then bad('value', i) end
      local e = sub(s, j + 1, j + 1)
      if e == 'u' then
        local cp = tonumber(sub(s, j + 2, j + 5), 16)
        if not cp then bad('value', i) end
        j = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and sub(s, j, j + 1) == '\\u' then
          local lo = tonumber(sub(s, j + 2, j + 5), 16)
          if lo and lo >= 0xDC00 and lo <= 0xDFFF then cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00) j = j + 6 end
        end
        out[#out + 1] = utf8char(cp)
      else
        local m = ({ b = '\b', f = '\f', n = '\n', r = '\r', t = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/' })[e]
        if not m then bad('value', i) end
        out[#out + 1] = m
        j = j + 2
      end
    end
  end
  decode_value = function(s, i, depth)
    if depth > 1000 then error('Found too many nested data structures (1001) at character ' .. i, 0) end
    i = ws(s, i)
    local c = sub(s, i, i)
    if c == '{' then
      local t = {}
      i = ws(s, i + 1)
      if sub(s, i, i) == '}' then return t, i + 1 end
      while true do
        if sub(s, i, i) ~= '"' then bad('object key string', i, s) end
        local k
        k, i = decode_string(s, i)
        i = ws(s, i)
        if sub(s, i, i) ~= ':' then bad('colon', i, s) end
        t[k], i = decode_value(s, i + 1, depth + 1)
        i = ws(s, i)
        local d = sub(s, i, i)
        if d == '}' then return t, i + 1 end
        if d ~= ',' then bad('comma or object end', i, s) end
        i = ws(s, i + 1)
      end
    elseif c == '[' then
      local t, n = {}, 0
      i = ws(s, i + 1)
      if sub(s, i, i) == ']' then return t, i + 1 end
      while true do
        n = n + 1
        t[n], i = decode_value(s, i, depth + 1)
        i = ws(s, i)
        local d = sub(s, i, i)
        if d == ']' then return t, i + 1 end
        if d ~= ',' then bad('comma or array end', i, s) end
        i = i + 1
      end
    elseif c == '"' then return decode_string(s, i)
    elseif sub(s, i, i + 3) == 'true' then return true, i + 4
    elseif sub(s, i, i + 4) == 'false' then return false, i + 5
    elseif sub(s, i, i + 3) == 'null' then return null, i + 4
    end
    local a, b = find(s, '^-?%d+%.?%d*[eE]?[-+]?%d*', i)
    if not a then bad('value', i) end
    return tonumber(sub(s, a, b)), b + 1
  end
  -- Errors are re-raised at the caller's position, as lua-cjson's C functions raise them.
  local raise, try = error, pcall
  local function encode_top(v)
    local out = {}
    encode(v, 0, out)
    return concat(out)
  end
  local function decode_top(s)
    local v, i = decode_value(s, 1, 0)
    i = ws(s, i)
    if i <= #s then bad('the end', i, s) end
    return v
  end
  -- Level 3: the wrapper, the C trampoline (__wrapc), then the script.
  cjson = {
    null = null,
    encode = __wrapc(function(v)
      local ok, r = try(encode_top, v)
      if not ok then raise(r, 3) end
      return r
    end),
    decode = __wrapc(function(s)
      if type(s) ~= 'string' then raise("bad argument #1 to 'decode' (string expected, got " .. type(s) .. ')', 3) end
      local ok, r = try(decode_top, s)
      if not ok then raise(r, 3) end
      return r
    end),
  }
${CMSGPACK_LUA}
${STRUCT_LUA}
  __wrapc = nil
end

-- The redis / server table.
local call, pcall_, sha1hex, log, setresp, acl = __call, __pcall, __sha1hex, __log, __setresp, __acl_check
__call, __pcall, __sha1hex, __log, __setresp, __acl_check = nil, nil, nil, nil, nil, nil
local function push_error(e)
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  local sp = e:find(' ', 1, true)
  if sp == nil then return { err = 'ERR ' .. e:sub(2) } end
  return { err = e:sub(2, sp - 1) .. ' ' .. e:sub(sp + 1) }
end
redis = {
  call = call,
  pcall = pcall_,
  sha1hex = sha1hex,
  setresp = setresp,
  acl_check_cmd = acl,
  error_reply = function(e)
    if type(e) ~= 'string' then return push_error('wrong number or type of arguments') end
    return push_error(e)
  end,
  status_reply = function(s)
    if type(s) ~= 'string' then return push_error('wrong number or type of arguments') end
    return { ok = s }
  end,
  log = function(level, ...)
    if select('#', ...) == 0 then error({ err = 'ERR redis.log() requires two arguments or more.' }) end
    if type(level) ~= 'number' then error({ err = 'ERR First argument must be a number (log level).' }) end
    if level < 0 or level > 3 then error({ err = 'ERR Invalid debug level.' }) end
    local parts = {}
    for i = 1, select('#', ...) do parts[i] = tostring((select(i, ...))) end
    log(level, table.concat(parts, ' '))
  end,
  set_repl = function() end,
  replicate_commands = function() return true end,
  breakpoint = function() return false end,
  debug = function() end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = '7.2.4', REDIS_VERSION_NUM = 0x070204,
  VALKEY_VERSION = '8.0.1', VALKEY_VERSION_NUM = 0x080001,
  SERVER_NAME = 'valkey',
}
server = redis

-- What Valkey's sandbox does not offer.
io, dofile, loadfile, require, package, print, debug, utf8, warn, rawlen = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
os = { clock = os.clock }

-- Lua 5.1's error() adds the position to numbers too.
local raise = error
error = function(m, level)
  level = level or 1
  if type(m) == 'number' then m = tostring(m) end
  if level > 0 then level = level + 1 end
  return raise(m, level)
end

-- Valkey's pcall: an error table raised by redis.call is caught as its err string.
local lua_pcall, pack = pcall, table.pack
pcall = function(...)
  local r = pack(lua_pcall(...))
  if r[1] then return table.unpack(r, 1, r.n) end
  local e = r[2]
  if type(e) == 'table' and type(e.err) == 'string' then e = e.err end
  return false, e
end

-- Valkey's message handler: a string error becomes {err='ERR ' .. msg}; the position is added.
-- It reports the first frame that is neither C nor this prelude (Valkey's helpers are C).
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=prelude') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

-- Global protection: user chunks see G through a read-only proxy.
setmetatable(G, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
})
local env = setmetatable({}, {
  __index = G,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __pairs = function() return next, G, nil end,
  __metatable = false,
})
G._G = env

-- Functions (FUNCTION LOAD / FCALL). A library's code runs once, at load, in a restricted
-- environment whose redis table only registers functions; the functions it registers later run
-- with the full globals (but no KEYS/ARGV: they get keys and args as parameters).
local function nonexistent(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local FLAGS = { ['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true, ['no-cluster'] = true, ['allow-cross-slot-keys'] = true }
local registering = nil
local function register_function(a, b)
  local name, cb, flags, desc
  if type(a) == 'table' then
    for k in pairs(a) do
      if k ~= 'function_name' and k ~= 'callback' and k ~= 'flags' and k ~= 'description' then
        error({ err = 'ERR unknown argument given to server.register_function' })
      end
    end
    name, cb, flags, desc = a.function_name, a.callback, a.flags, a.description
    if type(name) ~= 'string' then error({ err = 'ERR function_name argument given to server.register_function must be a string' }) end
    if type(cb) ~= 'function' then error({ err = 'ERR callback argument given to server.register_function must be a function' }) end
    if desc ~= nil and type(desc) ~= 'string' then error({ err = 'ERR description argument given to server.register_function must be a string' }) end
  else
    name, cb = a, b
    if type(name) ~= 'string' then error({ err = 'ERR first argument to server.register_function must be a string' }) end
    if type(cb) ~= 'function' then error({ err = 'ERR second argument to server.register_function must be a function' }) end
  end
  local list = {}
  if flags ~= nil then
    if type(flags) ~= 'table' then error({ err = 'ERR flags argument to server.register_function must be a table representing function flags' }) end
    for _, f in ipairs(flags) do
      if type(f) ~= 'string' or not FLAGS[f] then error({ err = 'ERR unknown flag given' }) end
      list[#list + 1] = f
    end
  end
  if not name:match('^[%w_]+$') then
    error({ err = 'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long' })
  end
  for _, r in ipairs(registering) do
    if r.name == name then error({ err = 'ERR Function already exists in the library' }) end
  end
  registering[#registering + 1] = { name = name, callback = cb, flags = list, description = desc }
end
local load_redis = setmetatable({
  register_function = register_function,
  log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
  VALKEY_VERSION = redis.VALKEY_VERSION, VALKEY_VERSION_NUM = redis.VALKEY_VERSION_NUM,
  SERVER_NAME = redis.SERVER_NAME,
}, { __index = nonexistent })
local load_G = setmetatable({
  redis = load_redis, server = load_redis, string = string, math = math, table = table, bit = bit, os = os,
}, { __index = nonexistent })
local current = G
local fenv = setmetatable({}, {
  __index = function(_, k)
    local v = rawget(current, k)
    if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
    return v
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
local function load_library(chunk)
  registering = {}
  current = load_G
  local ok, err = xpcall(chunk, handler)
  current = G
  local list = registering
  registering = nil
  if not ok then return nil, err end
  return list
end
return handler, env, fenv, load_library
`;
