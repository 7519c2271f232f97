/**
 * The optional Lua VM: loaded on demand, one line naming the package when it is missing, and the
 * Lua 5.1 number printing patch applied to the installed wasmoon build.
 */
import { describe, expect, it } from 'vitest';
import { loadedLua, loadLua, MISSING_LUA } from '../../../../../engine/server/scripting/lua-runtime.ts';

describe('the script VM loader', () => {
  it('is not loaded before the first script command', () => {
    expect(loadedLua()).toBeNull();
  });

  it('a missing wasmoon is one line naming the package and the install command', async () => {
    const missing = Object.assign(new Error("Cannot find package 'wasmoon' imported from /app/x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const error = await loadLua(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect((error as Error).message).toBe(MISSING_LUA);
    expect(MISSING_LUA).toBe('ERR scripting needs the optional package wasmoon: npm install wasmoon');
    expect(loadedLua()).toBeNull();
  });

  it('other load failures pass through unchanged, and a later load can still succeed', async () => {
    const boom = new Error('boom');
    await expect(loadLua(() => Promise.reject(boom))).rejects.toBe(boom);
    const lua = await loadLua();
    expect(loadedLua()).toBe(lua);
    // The installed build has the one constant the Lua 5.1 number format patch needs.
    expect(lua.printsLikeLua51).toBe(true);
  });
});
