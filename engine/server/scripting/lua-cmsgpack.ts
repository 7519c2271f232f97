/**
 * `cmsgpack` for the script VM, written in Lua over Lua 5.4's `string.pack`: Valkey's
 * lua-cmsgpack 0.4 (pack, unpack, unpack_one, unpack_limit) with its encodings — integers in the
 * smallest MessagePack int, other numbers as float32 when exact else float64, strings as
 * fixstr/str8/str16/str32, tables with keys 1..n as arrays else maps, nesting past 16 levels as
 * nil — and its error texts. Spliced into the prelude (lua-prelude.ts) where `__wrapc` exists.
 * A map's entries come in Lua's `next` order, which differs between Lua 5.1 and 5.4, so a
 * multi-key map may pack its entries in another order than Valkey (decoding is unaffected).
 */
export const CMSGPACK_LUA = `
do
  local spack, sunpack, char, byte, concat = string.pack, string.unpack, string.char, string.byte, table.concat
  local mtype, huge = math.type, math.huge
  local raise, try = error, pcall
  local MAX_NESTING = 16
  local function int_equivalent(n)
    if mtype(n) == 'integer' then return true end
    return n == n and n ~= huge and n ~= -huge and n >= -2^63 and n < 2^63 and n == math.floor(n)
  end
  local function enc_int(n, out)
    if n >= 0 then
      if n <= 127 then out[#out + 1] = char(n)
      elseif n <= 0xff then out[#out + 1] = char(0xcc, n)
      elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xcd, n)
      elseif n <= 0xffffffff then out[#out + 1] = spack('>BI4', 0xce, n)
      else out[#out + 1] = spack('>Bi8', 0xcf, n) end
    else
      if n >= -32 then out[#out + 1] = spack('b', n)
      elseif n >= -128 then out[#out + 1] = spack('>Bb', 0xd0, n)
      elseif n >= -32768 then out[#out + 1] = spack('>Bi2', 0xd1, n)
      elseif n >= -2147483648 then out[#out + 1] = spack('>Bi4', 0xd2, n)
      else out[#out + 1] = spack('>Bi8', 0xd3, n) end
    end
  end
  local function enc_number(n, out)
    if int_equivalent(n) then return enc_int(math.tointeger(n), out) end
    local f = sunpack('<f', spack('<f', n))
    if f == n then out[#out + 1] = spack('>Bf', 0xca, n) else out[#out + 1] = spack('>Bd', 0xcb, n) end
  end
  local function enc_len(n, fix, fixmax, c16, c32, out)
    if n <= fixmax then out[#out + 1] = char(fix | n)
    elseif n <= 0xffff then out[#out + 1] = spack('>BI2', c16, n)
    else out[#out + 1] = spack('>BI4', c32, n) end
  end
  local encode
  local function enc_table(t, level, out)
    local count, max = 0, 0
    local array = true
    for k in next, t do
      if type(k) ~= 'number' or k <= 0 or not int_equivalent(k) then array = false break end
      if k > max then max = k end
      count = count + 1
    end
    if array and max == count then
      local n = #t
      enc_len(n, 0x90, 15, 0xdc, 0xdd, out)
      for i = 1, n do encode(rawget(t, i), level + 1, out) end
    else
      local n = 0
      for _ in next, t do n = n + 1 end
      enc_len(n, 0x80, 15, 0xde, 0xdf, out)
      for k, v in next, t do
        encode(k, level + 1, out)
        encode(v, level + 1, out)
      end
    end
  end
  encode = function(v, level, out)
    local t = type(v)
    if t == 'table' and level == MAX_NESTING then t = 'nil' end
    if t == 'string' then
      local n = #v
      if n < 32 then out[#out + 1] = char(0xa0 | n)
      elseif n <= 0xff then out[#out + 1] = char(0xd9, n)
      elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xda, n)
      else out[#out + 1] = spack('>BI4', 0xdb, n) end
      out[#out + 1] = v
    elseif t == 'boolean' then out[#out + 1] = char(v and 0xc3 or 0xc2)
    elseif t == 'number' then enc_number(v, out)
    elseif t == 'table' then enc_table(v, level, out)
    else out[#out + 1] = char(0xc0) end
  end

  -- Decoding: a cursor over s; errors are the two lua-cmsgpack raises.
  local EOF, BADFMT = 'Missing bytes in input.', 'Bad data format in input.'
  local decode
  local function need(s, i, n) if i + n - 1 > #s then raise(EOF, 0) end end
  local function num(fmt, s, i, n)
    need(s, i, n)
    return sunpack(fmt, s, i)
  end
  local function items(s, i, n, map)
    local t = {}
    for j = 1, n do
      local k, v
      if map then
        k, i = decode(s, i)
        v, i = decode(s, i)
        t[k] = v
      else
        v, i = decode(s, i)
        t[j] = v
      end
    end
    return t, i
  end
  local function str(s, i, n)
    need(s, i, n)
    return s:sub(i, i + n - 1), i + n
  end
  decode = function(s, i)
    need(s, i, 1)
    local c = byte(s, i)
    i = i + 1
    if c <= 0x7f then return c, i end
    if c >= 0xe0 then return c - 256, i end
    if c >= 0xa0 and c <= 0xbf then return str(s, i, c & 0x1f) end
    if c >= 0x90 and c <= 0x9f then return items(s, i, c & 0x0f, false) end
    if c >= 0x80 and c <= 0x8f then return items(s, i, c & 0x0f, true) end
    if c == 0xc0 then return nil, i end
    if c == 0xc2 then return false, i end
    if c == 0xc3 then return true, i end
    if c == 0xcc then return num('>B', s, i, 1) end
    if c == 0xcd then return num('>I2', s, i, 2) end
    if c == 0xce then return num('>I4', s, i, 4) end
    if c == 0xcf then
      need(s, i, 8)
      local v, j = sunpack('>i8', s, i)
      if v < 0 then v = v + 2.0^64 end
      return v, j
    end
    if c == 0xd0 then return num('>b', s, i, 1) end
    if c == 0xd1 then return num('>i2', s, i, 2) end
    if c == 0xd2 then return num('>i4', s, i, 4) end
    if c == 0xd3 then return num('>i8', s, i, 8) end
    if c == 0xca then return num('>f', s, i, 4) end
    if c == 0xcb then return num('>d', s, i, 8) end
    if c == 0xd9 or c == 0xc4 then local n, j = num('>B', s, i, 1) return str(s, j, n) end
    if c == 0xda or c == 0xc5 then local n, j = num('>I2', s, i, 2) return str(s, j, n) end
    if c == 0xdb or c == 0xc6 then local n, j = num('>I4', s, i, 4) return str(s, j, n) end
    if c == 0xdc then local n, j = num('>I2', s, i, 2) return items(s, j, n, false) end
    if c == 0xdd then local n, j = num('>I4', s, i, 4) return items(s, j, n, false) end
    if c == 0xde then local n, j = num('>I2', s, i, 2) return items(s, j, n, true) end
    if c == 0xdf then local n, j = num('>I4', s, i, 4) return items(s, j, n, true) end
    raise(BADFMT, 0)
  end
  -- mp_unpack_full: up to limit values from offset; with an offset result unless decoding all.
  local function unpack_full(s, limit, offset, all)
    if type(s) ~= 'string' and type(s) ~= 'number' then
      raise("bad argument #1 to '?' (string expected, got " .. (s == nil and 'no value' or type(s)) .. ')', 0)
    end
    s = tostring(s)
    if offset < 0 or limit < 0 then
      raise(('Invalid request to unpack with offset of %d and limit of %d.'):format(offset, #s), 0)
    elseif offset > #s then
      raise(('Start offset %d greater than input length %d.'):format(offset, #s), 0)
    end
    if all then limit = 0x7fffffff end
    local out, n, i = {}, 0, offset + 1
    while i <= #s and n < limit do
      local v
      v, i = decode(s, i)
      n = n + 1
      out[n] = v
    end
    if all then return table.unpack(out, 1, n) end
    return (i > #s) and -1 or (i - 1), table.unpack(out, 1, n)
  end
  local function wrap(f)
    return __wrapc(function(...)
      local r = table.pack(try(f, ...))
      if not r[1] then raise(r[2], 3) end
      return table.unpack(r, 2, r.n)
    end)
  end
  cmsgpack = {
    _NAME = 'lua-cmsgpack',
    _VERSION = 'lua-cmsgpack 0.4.0',
    _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo',
    _DESCRIPTION = 'MessagePack C implementation for Lua',
    pack = wrap(function(...)
      local n = select('#', ...)
      if n == 0 then raise("bad argument #0 to 'pack' (MessagePack pack needs input.)", 0) end
      local out = {}
      for k = 1, n do encode((select(k, ...)), 0, out) end
      return concat(out)
    end),
    unpack = wrap(function(s) return unpack_full(s, 0, 0, true) end),
    unpack_one = wrap(function(s, offset) return unpack_full(s, 1, math.tointeger(offset or 0) or 0, false) end),
    unpack_limit = wrap(function(s, limit, offset)
      return unpack_full(s, math.tointeger(limit or 0) or 0, math.tointeger(offset or 0) or 0, false)
    end),
  }
end
`;
