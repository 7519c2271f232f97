/**
 * One Lua state for one engine server: compiles scripts, runs them with KEYS/ARGV, and converts
 * values both ways with Valkey's rules.
 *
 * - Command reply → Lua (what `redis.call` returns; RESP2 unless the script called
 *   `redis.setresp(3)`): integer → number, bulk → string, null → false, status → `{ok=…}`, error →
 *   `{err=…}` (raised by `redis.call`, returned by `redis.pcall`), array → table. RESP3: map → `{map={…}}`,
 *   set → `{set={member=true}}`, null → nil, boolean, double → `{double=n}`, big number → `{big_number=s}`.
 * - Lua → script reply: number → integer (truncated toward zero; out of range, NaN and ±inf give
 *   −2^63 as Valkey's cast does on x86), string → bulk, true → 1, false and nil → null, table with a
 *   string `err` → error, with a string `ok` → status, else an array of t[1], t[2], … up to the first
 *   nil.
 * - Arguments to `redis.call`: strings as bytes, numbers as the shortest round-trip decimal of the
 *   double (Valkey's Lua numbers are doubles: 2^53+1 becomes 9007199254740992); anything else is
 *   `ERR Command arguments must be strings or integers`.
 *
 * Over 450 lines on purpose: the conversions and the `redis.call` bridge all work on the Lua stack
 * of one state through the private WebAssembly pointers (`#L`, scratch buffers, interned names);
 * splitting them into files would expose those pointers to code that must not touch the stack.
 */
import type { ReplyWriter } from '../reply-writer.ts';
import { PRELUDE } from './lua-prelude.ts';
import { type LuaModule, LuaType, REGISTRY } from './lua-runtime.ts';

/** Raised into Lua by the bridge: a script-level error text (`ERR …`). */
export class ScriptCallError extends Error {
  override name = 'ScriptCallError';
}

/** What the VM asks its owner to do for `redis.call` / `redis.pcall`. */
export interface ScriptHost {
  /** Runs one command; returns its RESP reply bytes (in `resp`), or throws {@link ScriptCallError}. */
  call(args: string[], resp: 2 | 3): Buffer;
  /** `redis.acl_check_cmd`: whether the user may run the command. Throws {@link ScriptCallError}. */
  aclCheck(args: string[]): boolean;
  /** `redis.log`. */
  log(level: number, message: string): void;
}

/** A failed script: the error reply text and where it failed (null when unknown). */
export interface ScriptFailure {
  readonly error: string;
  readonly source: string | null;
  readonly line: number | null;
}

/** A function a library registered (FUNCTION LOAD). */
export interface LibraryFunction {
  readonly name: string;
  readonly description: string | null;
  readonly flags: readonly string[];
  /** The callback in the VM's registry. */
  readonly ref: number;
}

const MIN_I64 = -(2n ** 63n);
const TWO_63 = 2 ** 63;

/** Lua → integer reply as Valkey's `(long long)` cast of a double. */
function toReplyInteger(n: number): bigint {
  if (!Number.isFinite(n) || n >= TWO_63 || n < -TWO_63) return MIN_I64;
  return BigInt(Math.trunc(n));
}

/** The Lua state and its JS bridge. */
export class LuaVm {
  readonly #m: LuaModule;
  readonly #L: number;
  readonly #fnPointers: number[] = [];
  #scratch = 0;
  #scratchSize = 0;
  readonly #lenPtr: number;
  readonly #names = new Map<string, number>();
  #handlerRef = 0;
  #envRef = 0;
  #fenvRef = 0;
  #loadLibraryRef = 0;
  #host: ScriptHost | null = null;
  /** The protocol `redis.call` replies are read in (`redis.setresp`). */
  #resp: 2 | 3 = 2;

  constructor(m: LuaModule, sha1hex: (bytes: string) => string) {
    this.#m = m;
    this.#L = m._luaL_newstate();
    this.#lenPtr = m._malloc(8);
    m._luaL_openlibs(this.#L);
    const L = this.#L;
    this.#global('__call', () => this.#bridgeCall(false));
    this.#global('__pcall', () => this.#bridgeCall(true));
    this.#global('__sha1hex', () => {
      if (m._lua_gettop(L) !== 1) return this.#raise('ERR wrong number of arguments');
      this.#pushString(sha1hex(this.#readArg(1) ?? ''));
      return 1;
    });
    this.#global('__log', () => {
      this.#host?.log(Number(m._lua_tonumberx(L, 1, 0)), this.#readString(2));
      return 0;
    });
    this.#global('__setresp', () => {
      const n = m._lua_gettop(L) === 1 ? m._lua_tonumberx(L, 1, 0) : 0;
      if (n !== 2 && n !== 3) return this.#raise('ERR RESP version must be 2 or 3.');
      this.#resp = n;
      return 0;
    });
    this.#global('__acl_check', () => {
      const args = this.#readArgs();
      if (typeof args === 'string') return this.#raise(args);
      try {
        m._lua_pushboolean(L, this.#host?.aclCheck(args) ? 1 : 0);
      } catch (error) {
        return this.#raise(error instanceof ScriptCallError ? error.message : String(error));
      }
      return 1;
    });
    // __wrapc(f): a C closure calling f, so a library function's errors can name the script's
    // line even when the script tail-calls it (Lua drops a tail-calling Lua frame, not for C).
    const trampoline = m.addFunction(() => {
      const n = m._lua_gettop(L);
      m._lua_pushvalue(L, REGISTRY - 1);
      m._lua_rotate(L, 1, 1);
      m._lua_callk(L, n, -1, 0, 0);
      return m._lua_gettop(L);
    }, 'ii');
    this.#fnPointers.push(trampoline);
    this.#global('__wrapc', () => {
      m._lua_settop(L, 1);
      m._lua_pushcclosure(L, trampoline, 1);
      return 1;
    });
    m._lua_pushlightuserdata(L, 0);
    m._lua_setglobal(L, this.#name('__cjson_null'));
    const status = this.#load(PRELUDE, '=prelude');
    if (status !== null) throw new Error(`script VM prelude: ${status}`);
    if (m._lua_pcallk(L, 0, 4, 0, 0, 0) !== 0) throw new Error(`script VM prelude: ${this.#readString(-1)}`);
    this.#loadLibraryRef = m._luaL_ref(L, REGISTRY);
    this.#fenvRef = m._luaL_ref(L, REGISTRY);
    this.#envRef = m._luaL_ref(L, REGISTRY);
    this.#handlerRef = m._luaL_ref(L, REGISTRY);
  }

  /** Frees the state (SCRIPT FLUSH, server close). */
  close(): void {
    const m = this.#m;
    m._lua_close(this.#L);
    if (this.#scratch !== 0) m._free(this.#scratch);
    m._free(this.#lenPtr);
    for (const p of this.#names.values()) m._free(p);
    this.#names.clear();
    for (const p of this.#fnPointers) m.removeFunction(p);
  }

  /**
   * Compiles `source` (chunk name `@user_script`, text only) into a function kept in the registry;
   * returns its reference, or the compiler's message (`user_script:1: …`).
   */
  compile(source: string, chunkName = '@user_script'): number | string {
    const m = this.#m;
    const L = this.#L;
    const error = this.#load(source, chunkName);
    if (error !== null) return error;
    this.#setEnv();
    return m._luaL_ref(L, REGISTRY);
  }

  /**
   * Compiles and runs a function library's code (chunk `@user_function`); returns the functions it
   * registered (callbacks kept in the registry), or an error reply text.
   */
  loadLibrary(source: string): LibraryFunction[] | string {
    const m = this.#m;
    const L = this.#L;
    m._lua_settop(L, 0);
    m._lua_rawgeti(L, REGISTRY, BigInt(this.#loadLibraryRef));
    const error = this.#load(source, '@user_function');
    if (error !== null) {
      m._lua_settop(L, 0);
      return `ERR Error compiling function: ${error}`;
    }
    this.#setEnv(this.#fenvRef);
    if (m._lua_pcallk(L, 1, 2, 0, 0, 0) !== 0 || m._lua_type(L, 1) !== LuaType.table) {
      const failed = m._lua_type(L, 1) === LuaType.table ? null : this.#errorOf(m._lua_gettop(L));
      m._lua_settop(L, 0);
      return `ERR Error registering functions: ${failed?.error ?? 'ERR unknown error'}`;
    }
    const out: LibraryFunction[] = [];
    const n = m._lua_rawlen(L, 1);
    for (let i = 1; i <= n; i++) {
      m._lua_rawgeti(L, 1, BigInt(i));
      const e = m._lua_gettop(L);
      m._lua_getfield(L, e, this.#name('name'));
      const name = this.#readString(-1);
      m._lua_getfield(L, e, this.#name('description'));
      const description = m._lua_type(L, -1) === LuaType.string ? this.#readString(-1) : null;
      m._lua_getfield(L, e, this.#name('flags'));
      const flags: string[] = [];
      const nf = m._lua_rawlen(L, -1);
      for (let j = 1; j <= nf; j++) {
        m._lua_rawgeti(L, -1, BigInt(j));
        flags.push(this.#readString(-1));
        m._lua_settop(L, -2);
      }
      m._lua_getfield(L, e, this.#name('callback'));
      const ref = m._luaL_ref(L, REGISTRY);
      out.push({ name, description, flags, ref });
      m._lua_settop(L, e - 1);
    }
    m._lua_settop(L, 0);
    return out;
  }

  /** Forgets a compiled function. */
  release(ref: number): void {
    this.#m._luaL_unref(this.#L, REGISTRY, ref);
  }

  /**
   * Runs a compiled chunk with KEYS and ARGV; writes its reply to `w`, or returns the error text
   * (without the ` script: …` suffix the caller adds: `{ error, line }`).
   */
  run(
    ref: number,
    keys: readonly string[],
    argv: readonly string[],
    host: ScriptHost,
    w: ReplyWriter,
    asFunction = false,
  ): ScriptFailure | null {
    const m = this.#m;
    const L = this.#L;
    this.#host = host;
    this.#resp = 2;
    m._lua_settop(L, 0);
    if (!asFunction) {
      this.#pushArray(keys);
      m._lua_setglobal(L, this.#name('KEYS'));
      this.#pushArray(argv);
      m._lua_setglobal(L, this.#name('ARGV'));
    }
    m._lua_rawgeti(L, REGISTRY, BigInt(this.#handlerRef));
    m._lua_rawgeti(L, REGISTRY, BigInt(ref));
    if (asFunction) {
      this.#pushArray(keys);
      this.#pushArray(argv);
    }
    const status = m._lua_pcallk(L, asFunction ? 2 : 0, 1, 1, 0, 0);
    this.#host = null;
    try {
      if (status !== 0) return this.#errorOf(-1);
      this.#write(w, -1, 0);
      return null;
    } finally {
      m._lua_settop(L, 0);
      m._lua_pushnil(L);
      m._lua_setglobal(L, this.#name('KEYS'));
      m._lua_pushnil(L);
      m._lua_setglobal(L, this.#name('ARGV'));
    }
  }

  /** The error object at `idx` (the handler's `{err, source, line}` table, or anything else). */
  #errorOf(idx: number): ScriptFailure {
    const m = this.#m;
    const L = this.#L;
    if (m._lua_type(L, idx) !== LuaType.table)
      return { error: `ERR ${this.#readString(idx)}`, source: null, line: null };
    const t = m._lua_gettop(L);
    const errType = this.#rawField(t, 'err');
    const error = errType === LuaType.string ? this.#readString(-1) : null;
    const srcType = this.#rawField(t, 'source');
    const source = srcType === LuaType.string ? this.#readString(-1) : null;
    const lineType = this.#rawField(t, 'line');
    const line = lineType === LuaType.number ? Number(m._lua_tonumberx(L, -1, 0)) : null;
    m._lua_settop(L, t);
    return { error: error ?? 'ERR Script raised an error object without an err field', source, line };
  }

  // --- redis.call / redis.pcall ---

  #bridgeCall(protectedCall: boolean): number {
    const args = this.#readArgs();
    if (typeof args === 'string') return this.#fail(args, protectedCall);
    let reply: Buffer;
    try {
      reply = this.#host!.call(args, this.#resp);
    } catch (error) {
      return this.#fail(
        error instanceof ScriptCallError ? error.message : `ERR ${String(error)}`,
        protectedCall,
      );
    }
    if (reply[0] === 45 /* - */) {
      const text = reply.toString('latin1', 1, reply.length - 2);
      return this.#fail(text, protectedCall);
    }
    const top = this.#m._lua_gettop(this.#L);
    try {
      this.#pushReply(reply, 0);
    } catch (error) {
      // A JS exception must not unwind through the VM's C frames: raise it as a Lua error.
      this.#m._lua_settop(this.#L, top);
      return this.#fail(`ERR ${error instanceof Error ? error.message : String(error)}`, protectedCall);
    }
    return 1;
  }

  /** Raises `{err=text}` (redis.call) or returns it (redis.pcall). */
  #fail(text: string, protectedCall: boolean): number {
    this.#pushErrorTable(text);
    if (protectedCall) return 1;
    return this.#m._lua_error(this.#L);
  }

  #raise(text: string): number {
    this.#pushErrorTable(text);
    return this.#m._lua_error(this.#L);
  }

  #pushErrorTable(text: string): void {
    const m = this.#m;
    m._lua_createtable(this.#L, 0, 1);
    this.#pushString(text);
    m._lua_setfield(this.#L, -2, this.#name('err'));
  }

  /** The call's arguments as engine strings, or the error text. */
  #readArgs(): string[] | string {
    const m = this.#m;
    const n = m._lua_gettop(this.#L);
    if (n === 0) return 'ERR Please specify at least one argument for this call';
    const args = new Array<string>(n);
    for (let i = 1; i <= n; i++) {
      const a = this.#readArg(i);
      if (a === null) return 'ERR Command arguments must be strings or integers';
      args[i - 1] = a;
    }
    return args;
  }

  /** A string or number argument as Valkey's Lua 5.1 would pass it; null for other types. */
  #readArg(i: number): string | null {
    const m = this.#m;
    const L = this.#L;
    const type = m._lua_type(L, i);
    if (type === LuaType.string) return this.#readString(i);
    if (type !== LuaType.number) return null;
    const n = m._lua_isinteger(L, i) ? Number(m._lua_tointegerx(L, i, 0)) : m._lua_tonumberx(L, i, 0);
    return String(n);
  }

  // --- values ---

  /** Reads the string (or number) at `idx` as a latin1 string (one char per byte). */
  #readString(idx: number): string {
    const m = this.#m;
    const p = m._lua_tolstring(this.#L, idx, this.#lenPtr);
    if (p === 0) return '';
    const len = m.HEAPU32[this.#lenPtr >> 2]!;
    const heap = m.HEAPU8;
    if (len < 64) {
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(heap[p + i]!);
      return s;
    }
    return Buffer.from(heap.buffer, heap.byteOffset + p, len).toString('latin1');
  }

  #reserve(len: number): number {
    if (len > this.#scratchSize) {
      const m = this.#m;
      if (this.#scratch !== 0) m._free(this.#scratch);
      this.#scratchSize = Math.max(len, 256, this.#scratchSize * 2);
      this.#scratch = m._malloc(this.#scratchSize);
    }
    return this.#scratch;
  }

  /** Pushes a latin1 string as bytes. */
  #pushString(s: string): void {
    const m = this.#m;
    const len = s.length;
    const p = this.#reserve(len);
    const heap = m.HEAPU8;
    if (len < 64) for (let i = 0; i < len; i++) heap[p + i] = s.charCodeAt(i);
    else Buffer.from(heap.buffer, heap.byteOffset + p, len).write(s, 'latin1');
    m._lua_pushlstring(this.#L, p, len);
  }

  /** Pushes raw bytes. */
  #pushBytes(buf: Buffer, start: number, end: number): void {
    const m = this.#m;
    const len = end - start;
    const p = this.#reserve(len);
    m.HEAPU8.set(buf.subarray(start, end), p);
    m._lua_pushlstring(this.#L, p, len);
  }

  /**
   * Pushes `t[name]` without metamethods and returns its type. Used on values a script returned or
   * raised, read outside any protected call: a metamethod that raised there would abort the VM.
   */
  #rawField(t: number, name: string): number {
    this.#pushString(name);
    return this.#m._lua_rawget(this.#L, t);
  }

  /** A NUL-terminated C string for a field name, allocated once. */
  #name(s: string): number {
    let p = this.#names.get(s);
    if (p === undefined) {
      const m = this.#m;
      p = m._malloc(s.length + 1);
      for (let i = 0; i < s.length; i++) m.HEAPU8[p + i] = s.charCodeAt(i);
      m.HEAPU8[p + s.length] = 0;
      this.#names.set(s, p);
    }
    return p;
  }

  #global(name: string, fn: () => number): void {
    const m = this.#m;
    const p = m.addFunction(() => fn(), 'ii');
    this.#fnPointers.push(p);
    m._lua_pushcclosure(this.#L, p, 0);
    m._lua_setglobal(this.#L, this.#name(name));
  }

  #load(source: string, chunkName: string): string | null {
    const m = this.#m;
    const L = this.#L;
    const len = source.length;
    const p = m._malloc(Math.max(1, len));
    Buffer.from(m.HEAPU8.buffer, m.HEAPU8.byteOffset + p, len).write(source, 'latin1');
    const status = m._luaL_loadbufferx(L, p, len, this.#name(chunkName), this.#name('t'));
    m._free(p);
    if (status === 0) return null;
    // Lua 5.1 quotes the end-of-input token ("near '<eof>'"); 5.4 does not.
    const message = this.#readString(-1).replace(/ near <eof>$/, " near '<eof>'");
    m._lua_settop(L, -2);
    return message;
  }

  /** Sets the function on top's first upvalue (_ENV) to a read-only environment. */
  #setEnv(envRef = this.#envRef): void {
    const m = this.#m;
    m._lua_rawgeti(this.#L, REGISTRY, BigInt(envRef));
    m._lua_setupvalue(this.#L, -2, 1);
  }

  #pushArray(values: readonly string[]): void {
    const m = this.#m;
    const L = this.#L;
    m._lua_createtable(L, values.length, 0);
    for (let i = 0; i < values.length; i++) {
      this.#pushString(values[i]!);
      m._lua_rawseti(L, -2, BigInt(i + 1));
    }
  }

  /** Parses one RESP value at `pos` of `buf` and pushes it; returns the position after it. */
  #pushReply(buf: Buffer, pos: number): number {
    const m = this.#m;
    const L = this.#L;
    const nl = buf.indexOf(13, pos);
    const type = buf[pos]!;
    const head = buf.toString('latin1', pos + 1, nl);
    let at = nl + 2;
    m._lua_checkstack(L, 4);
    switch (type) {
      case 58 /* : */:
        m._lua_pushinteger(L, BigInt(head));
        return at;
      case 36 /* $ */:
        {
          const n = Number(head);
          if (n < 0) {
            m._lua_pushboolean(L, 0);
            return at;
          }
          this.#pushBytes(buf, at, at + n);
          return at + n + 2;
        }
      case 43 /* + */:
        m._lua_createtable(L, 0, 1);
        this.#pushString(head);
        m._lua_setfield(L, -2, this.#name('ok'));
        return at;
      case 45 /* - */:
        this.#pushErrorTable(head);
        return at;
      case 42 /* * */:
      case 62 /* > */:
        {
          const n = Number(head);
          if (n < 0) {
            m._lua_pushboolean(L, 0);
            return at;
          }
          m._lua_createtable(L, n, 0);
          for (let i = 1; i <= n; i++) {
            at = this.#pushReply(buf, at);
            m._lua_rawseti(L, -2, BigInt(i));
          }
          return at;
        }
      case 37 /* % */:
      case 126 /* ~ */:
        {
          const n = Number(head);
          m._lua_createtable(L, 0, 1);
          m._lua_createtable(L, 0, n);
          for (let i = 0; i < n; i++) {
            at = this.#pushReply(buf, at);
            if (type === 37) at = this.#pushReply(buf, at);
            else m._lua_pushboolean(L, 1);
            m._lua_rawset(L, -3);
          }
          m._lua_setfield(L, -2, this.#name(type === 37 ? 'map' : 'set'));
          return at;
        }
      case 95 /* _ */:
        m._lua_pushnil(L);
        return at;
      case 35 /* # */:
        m._lua_pushboolean(L, head === 't' ? 1 : 0);
        return at;
      case 44 /* , */:
        m._lua_createtable(L, 0, 1);
        m._lua_pushnumber(L, Number(head.replace(/^(-?)inf$/, '$1Infinity')));
        m._lua_setfield(L, -2, this.#name('double'));
        return at;
      case 40 /* ( */:
        m._lua_createtable(L, 0, 1);
        this.#pushString(head);
        m._lua_setfield(L, -2, this.#name('big_number'));
        return at;
      case 61 /* = */:
        {
          const n = Number(head);
          m._lua_createtable(L, 0, 1);
          m._lua_createtable(L, 0, 2);
          this.#pushBytes(buf, at + 4, at + n);
          m._lua_setfield(L, -2, this.#name('string'));
          this.#pushBytes(buf, at, at + 3);
          m._lua_setfield(L, -2, this.#name('format'));
          m._lua_setfield(L, -2, this.#name('verbatim_string'));
          return at + n + 2;
        }
      default:
        throw new Error(`unexpected reply type ${String.fromCharCode(type)}`);
    }
  }

  /** Writes the Lua value at `idx` as the script's reply (Valkey's luaReplyToRedisReply). */
  #write(w: ReplyWriter, idx: number, depth: number): void {
    const m = this.#m;
    const L = this.#L;
    const t = m._lua_gettop(L) + 1 + idx;
    switch (m._lua_type(L, t)) {
      case LuaType.string:
        w.bulk(this.#readString(t));
        return;
      case LuaType.boolean:
        if (m._lua_toboolean(L, t)) w.int(1);
        else w.nil();
        return;
      case LuaType.number:
        w.int(
          m._lua_isinteger(L, t)
            ? toReplyInteger(Number(m._lua_tointegerx(L, t, 0)))
            : toReplyInteger(m._lua_tonumberx(L, t, 0)),
        );
        return;
      case LuaType.table: {
        if (depth > 1000 || !m._lua_checkstack(L, 4)) {
          w.error('ERR reached lua stack limit');
          return;
        }
        if (this.#rawField(t, 'err') === LuaType.string) {
          w.error(this.#readString(-1));
          m._lua_settop(L, t);
          return;
        }
        m._lua_settop(L, t);
        if (this.#rawField(t, 'ok') === LuaType.string) {
          w.simple(this.#readString(-1).replace(/[\r\n]/g, ' '));
          m._lua_settop(L, t);
          return;
        }
        m._lua_settop(L, t);
        let n = 0;
        while (m._lua_rawgeti(L, t, BigInt(n + 1)) !== LuaType.nil) {
          m._lua_settop(L, t);
          n++;
        }
        m._lua_settop(L, t);
        w.array(n);
        for (let i = 1; i <= n; i++) {
          m._lua_rawgeti(L, t, BigInt(i));
          this.#write(w, -1, depth + 1);
          m._lua_settop(L, t);
        }
        return;
      }
      default:
        w.nil();
    }
  }
}
