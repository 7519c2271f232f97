/**
 * The embedded Lua VM: `wasmoon` (PUC Lua 5.4 compiled to WebAssembly), an optional peer dependency
 * loaded on the first EVAL/SCRIPT LOAD/FUNCTION LOAD, never before (the non-script hot path does
 * not touch it). Without the package those commands answer one line naming it.
 *
 * Only wasmoon's raw C API is used (its JS object bridge converts strings through UTF-8, which is
 * not binary-safe): strings cross as bytes through WASM memory, one byte per latin1 char, as the
 * engine keeps them.
 *
 * Lua 5.1 vs 5.4: Valkey runs Lua 5.1, whose numbers are all doubles and print with `%.14g`
 * (`10/2` → "5"). Lua 5.4 prints a float with an integral value as "5.0". The loader patches the
 * one constant that adds the ".0" (the `"-0123456789"` set in `tostringbuff`) in the instance's
 * memory, so `tostring`, `..` and `string.format('%s')` print numbers as Lua 5.1 does. When the
 * constant is not found exactly once (another wasmoon build) the patch is skipped and
 * {@link LuaModule.printsLikeLua51} is false.
 */

/** The raw exports of the wasmoon WebAssembly module this engine uses (pointers are numbers). */
export interface LuaModule {
  readonly HEAPU8: Uint8Array;
  readonly HEAPU32: Uint32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  addFunction(fn: (L: number) => number, signature: string): number;
  removeFunction(ptr: number): void;
  _luaL_newstate(): number;
  _luaL_openlibs(L: number): void;
  _lua_close(L: number): void;
  _luaL_loadbufferx(L: number, buf: number, len: number, name: number, mode: number): number;
  _lua_pcallk(L: number, nargs: number, nresults: number, msgh: number, ctx: number, k: number): number;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, idx: number): void;
  _lua_checkstack(L: number, n: number): number;
  _lua_type(L: number, idx: number): number;
  _lua_isinteger(L: number, idx: number): number;
  _lua_tointegerx(L: number, idx: number, isnum: number): bigint;
  _lua_tonumberx(L: number, idx: number, isnum: number): number;
  _lua_toboolean(L: number, idx: number): number;
  _lua_tolstring(L: number, idx: number, len: number): number;
  _lua_rawlen(L: number, idx: number): number;
  _lua_pushnil(L: number): void;
  _lua_pushinteger(L: number, n: bigint): void;
  _lua_pushnumber(L: number, n: number): void;
  _lua_pushboolean(L: number, b: number): void;
  _lua_pushlightuserdata(L: number, p: number): void;
  _lua_pushlstring(L: number, s: number, len: number): number;
  _lua_pushvalue(L: number, idx: number): void;
  _lua_pushcclosure(L: number, fn: number, n: number): void;
  _lua_createtable(L: number, narr: number, nrec: number): void;
  _lua_rawgeti(L: number, idx: number, n: bigint): number;
  _lua_rawseti(L: number, idx: number, n: bigint): void;
  _lua_rawset(L: number, idx: number): void;
  _lua_rawget(L: number, idx: number): number;
  _lua_getfield(L: number, idx: number, k: number): number;
  _lua_setfield(L: number, idx: number, k: number): void;
  _lua_getglobal(L: number, name: number): number;
  _lua_setglobal(L: number, name: number): void;
  _lua_next(L: number, idx: number): number;
  _lua_error(L: number): number;
  _lua_callk(L: number, nargs: number, nresults: number, ctx: number, k: number): void;
  _lua_rotate(L: number, idx: number, n: number): void;
  _lua_setupvalue(L: number, funcindex: number, n: number): number;
  _luaL_ref(L: number, t: number): number;
  _luaL_unref(L: number, t: number, ref: number): void;
  /** True when numbers print as in Lua 5.1 (the ".0" patch applied). */
  printsLikeLua51: boolean;
}

/** Lua type tags. */
export const LuaType = {
  nil: 0,
  boolean: 1,
  number: 3,
  string: 4,
  table: 5,
  function: 6,
} as const;

/** The registry pseudo-index of Lua 5.4 (LUAI_MAXSTACK 1,000,000). */
export const REGISTRY = -1001000;

/** What EVAL answers when the optional package is not installed. */
export const MISSING_LUA = 'ERR scripting needs the optional package wasmoon: npm install wasmoon';

let loading: Promise<LuaModule> | null = null;
let loaded: LuaModule | null = null;

/** The loaded module, or null before the first {@link loadLua} settled. */
export function loadedLua(): LuaModule | null {
  return loaded;
}

/** True when `error` says `wasmoon` itself cannot be found. */
function isMissing(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    /'wasmoon'|"wasmoon"/.test(e.message ?? '')
  );
}

/**
 * Loads wasmoon once per process (later calls share the promise). Rejects with an Error whose
 * message is {@link MISSING_LUA} when the package is not installed.
 */
export function loadLua(importer: () => Promise<unknown> = () => import('wasmoon')): Promise<LuaModule> {
  if (loading !== null) return loading;
  loading = (async () => {
    let wasmoon: { LuaWasm: { initialize(): Promise<{ module: unknown }> } };
    try {
      wasmoon = (await importer()) as typeof wasmoon;
    } catch (error) {
      if (isMissing(error)) throw new Error(MISSING_LUA, { cause: error });
      throw error;
    }
    // The one boundary to an untyped WebAssembly module: its exports are the C API above.
    const module = (await wasmoon.LuaWasm.initialize()).module as LuaModule;
    module.printsLikeLua51 = patchNumberFormat(module.HEAPU8);
    loaded = module;
    return module;
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** Removes Lua 5.4's ".0" suffix for integral floats (see the module comment). */
function patchNumberFormat(heap: Uint8Array): boolean {
  const bytes = Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength);
  const pattern = Buffer.from('\0-0123456789\0', 'latin1');
  const at = bytes.indexOf(pattern);
  if (at < 0 || bytes.indexOf(pattern, at + 1) >= 0) return false;
  // An empty set: strspn() stops at once, so the "looks like an int" test never holds.
  bytes[at + 1] = 0;
  return true;
}
