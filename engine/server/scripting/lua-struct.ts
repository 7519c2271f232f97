/**
 * `struct` for the script VM, written in Lua: Valkey's lua_struct (pack, unpack, size) with its
 * formats (`> < ! x b B h H l L T i[n] I[n] f d c[n] s`, `c0` taking the previous number as its
 * size), alignment, wrap-around of out-of-range integers, results as numbers, and its error texts.
 * Spliced into the prelude (lua-prelude.ts) where `__wrapc` exists.
 */
export const STRUCT_LUA = String.raw`
do
  local spack, sunpack, char, byte, sub, find, concat = string.pack, string.unpack, string.char, string.byte, string.sub, string.find, table.concat
  local raise, try = error, pcall
  local MAXINTSIZE, MAXALIGN = 32, 8
  local SIZES = { b = 1, B = 1, h = 2, H = 2, l = 8, L = 8, T = 8, f = 4, d = 8, x = 1 }
  local function argerror(n, fname, msg) raise(('bad argument #%d to \'%s\' (%s)'):format(n, fname, msg), 0) end
  -- getnum: the digits at fmt[i..], or df when none.
  local function getnum(fmt, i, df)
    local a, b = find(fmt, '^%d+', i)
    if not a then return df, i end
    local n = tonumber(sub(fmt, a, b))
    if n > 0x7fffffff then raise('integral size overflow', 0) end
    return n, b + 1
  end
  local function optsize(opt, fmt, i)
    local s = SIZES[opt]
    if s then return s, i end
    if opt == 'c' then return getnum(fmt, i, 1) end
    if opt == 'i' or opt == 'I' then
      local sz
      sz, i = getnum(fmt, i, 4)
      if sz > MAXINTSIZE then raise(('integral size %d is larger than limit of %d'):format(sz, MAXINTSIZE), 0) end
      return sz, i
    end
    return 0, i
  end
  local function toalign(len, h, opt, size)
    if size == 0 or opt == 'c' then return 0 end
    if size > h.align then size = h.align end
    return (size - (len & (size - 1))) & (size - 1)
  end
  local function control(opt, fmt, i, h, fname)
    if opt == ' ' then return i end
    if opt == '>' then h.big = true return i end
    if opt == '<' then h.big = false return i end
    if opt == '!' then
      local a
      a, i = getnum(fmt, i, MAXALIGN)
      if a == 0 or (a & (a - 1)) ~= 0 then raise(('alignment %d is not a power of 2'):format(a), 0) end
      h.align = a
      return i
    end
    argerror(1, fname, ("invalid format option '%s'"):format(opt))
  end
  -- A missing argument of pack is "nil" (lua_struct pushes a nil mark after the arguments), of
  -- unpack and size "no value".
  local function missing(v, fname) return v == nil and (fname == 'pack' and 'nil' or 'no value') or type(v) end
  local function checknumber(v, n, fname)
    local x = tonumber(v)
    if type(v) ~= 'number' and (type(v) ~= 'string' or x == nil) then
      argerror(n, fname, 'number expected, got ' .. missing(v, fname))
    end
    return x
  end
  local function checkstring(v, n, fname)
    if type(v) == 'number' then return tostring(v) end
    if type(v) ~= 'string' then argerror(n, fname, 'string expected, got ' .. missing(v, fname)) end
    return v
  end
  -- A Lua number as the 64 bits C's (Uinttype)(Inttype)n / (Uinttype)n give.
  local function bits64(n)
    local i = math.tointeger(n)
    if i then return i end
    if n ~= n then return 0 end
    if n >= 2^63 then
      if n >= 2^64 then return 0 end
      return math.tointeger(n - 2^64)
    end
    if n <= -2^63 then return math.mininteger end
    return math.tointeger(n < 0 and math.ceil(n) or math.floor(n))
  end
  local function putint(v, size, big, out)
    local bytes = {}
    for k = 1, size do
      bytes[k] = char(v & 0xff)
      v = v >> 8
    end
    if big then
      local r = {}
      for k = 1, size do r[k] = bytes[size - k + 1] end
      bytes = r
    end
    out[#out + 1] = concat(bytes)
  end
  local function getint(s, pos, size, big, signed)
    local l = 0
    if big then
      for k = 0, size - 1 do l = (l << 8) | byte(s, pos + k) end
    else
      for k = size - 1, 0, -1 do l = (l << 8) | byte(s, pos + k) end
    end
    if not signed then
      if l < 0 then return l + 2.0^64 end
      return l
    end
    if size < 8 then
      local mask = -1 << (size * 8 - 1)
      if l & mask ~= 0 then l = l | mask end
    end
    return l
  end
  local function pack(fmt, ...)
    fmt = checkstring(fmt, 1, 'pack')
    local args = table.pack(...)
    local h = { big = false, align = 1 }
    local out, total, arg, i = {}, 0, 2, 1
    while i <= #fmt do
      local opt = sub(fmt, i, i)
      i = i + 1
      local size
      size, i = optsize(opt, fmt, i)
      local pad = toalign(total, h, opt, size)
      total = total + pad
      if pad > 0 then out[#out + 1] = string.rep('\0', pad) end
      if find('bBhHlLTiI', opt, 1, true) then
        putint(bits64(checknumber(args[arg - 1], arg, 'pack')), size, h.big, out)
        arg = arg + 1
      elseif opt == 'x' then
        out[#out + 1] = '\0'
      elseif opt == 'f' then
        out[#out + 1] = spack(h.big and '>f' or '<f', checknumber(args[arg - 1], arg, 'pack'))
        arg = arg + 1
      elseif opt == 'd' then
        out[#out + 1] = spack(h.big and '>d' or '<d', checknumber(args[arg - 1], arg, 'pack'))
        arg = arg + 1
      elseif opt == 'c' or opt == 's' then
        local s = checkstring(args[arg - 1], arg, 'pack')
        arg = arg + 1
        if size == 0 then size = #s end
        if #s < size then argerror(arg, 'pack', 'string too short') end
        out[#out + 1] = sub(s, 1, size)
        if opt == 's' then
          out[#out + 1] = '\0'
          size = size + 1
        end
      else
        i = control(opt, fmt, i, h, 'pack')
      end
      total = total + size
    end
    return concat(out)
  end
  local function number(v)
    if math.type(v) == 'float' then return math.tointeger(v) or v end
    return v
  end
  local function unpack(fmt, data, init)
    fmt = checkstring(fmt, 1, 'unpack')
    data = checkstring(data, 2, 'unpack')
    local pos = 1
    if init ~= nil then pos = math.tointeger(checknumber(init, 3, 'unpack')) or math.floor(checknumber(init, 3, 'unpack')) end
    if pos <= 0 then argerror(3, 'unpack', 'offset must be 1 or greater') end
    pos = pos - 1
    local ld = #data
    local h = { big = false, align = 1 }
    local res, n, i = {}, 0, 1
    while i <= #fmt do
      local opt = sub(fmt, i, i)
      i = i + 1
      local size
      size, i = optsize(opt, fmt, i)
      pos = pos + toalign(pos, h, opt, size)
      if not (size <= ld and pos <= ld - size) then argerror(2, 'unpack', 'data string too short') end
      if find('bBhHlLTiI', opt, 1, true) then
        n = n + 1
        res[n] = number(getint(data, pos + 1, size, h.big, opt == opt:lower()))
      elseif opt == 'x' then
      elseif opt == 'f' then
        n = n + 1
        res[n] = number(sunpack(h.big and '>f' or '<f', data, pos + 1))
      elseif opt == 'd' then
        n = n + 1
        res[n] = number(sunpack(h.big and '>d' or '<d', data, pos + 1))
      elseif opt == 'c' then
        if size == 0 then
          if n == 0 or type(res[n]) ~= 'number' then raise("format 'c0' needs a previous size", 0) end
          size = math.tointeger(res[n]) or math.floor(res[n])
          res[n] = nil
          n = n - 1
          if not (size <= ld and pos <= ld - size) then argerror(2, 'unpack', 'data string too short') end
        end
        n = n + 1
        res[n] = sub(data, pos + 1, pos + size)
      elseif opt == 's' then
        local e = find(data, '\0', pos + 1, true)
        if not e then raise('unfinished string in data', 0) end
        size = e - pos
        n = n + 1
        res[n] = sub(data, pos + 1, e - 1)
      else
        i = control(opt, fmt, i, h, 'unpack')
      end
      pos = pos + size
    end
    n = n + 1
    res[n] = pos + 1
    return table.unpack(res, 1, n)
  end
  local function size(fmt)
    fmt = checkstring(fmt, 1, 'size')
    local h = { big = false, align = 1 }
    local pos, i = 0, 1
    while i <= #fmt do
      local opt = sub(fmt, i, i)
      i = i + 1
      local sz
      sz, i = optsize(opt, fmt, i)
      pos = pos + toalign(pos, h, opt, sz)
      if opt == 's' then argerror(1, 'size', "option 's' has no fixed size")
      elseif opt == 'c' and sz == 0 then argerror(1, 'size', "option 'c0' has no fixed size") end
      if not find(opt, '^%w') then i = control(opt, fmt, i, h, 'size') end
      pos = pos + sz
    end
    return pos
  end
  local function wrap(f)
    return __wrapc(function(...)
      local r = table.pack(try(f, ...))
      if not r[1] then raise(r[2], 3) end
      return table.unpack(r, 2, r.n)
    end)
  end
  struct = { pack = wrap(pack), unpack = wrap(unpack), size = wrap(size) }
end
`;
