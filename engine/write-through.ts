/**
 * Write-through hooks: keys matching a hook's prefix or glob pattern are persisted to the source of
 * truth before the cache changes.
 *
 * Semantics (also in engine/README.md):
 * - The hook runs first; only when it resolves does the cache apply the write. When it rejects, the
 *   caller gets `E_ENGINE_HOOK_FAILED` and the cache keeps its old value.
 * - A hook that has not settled after `timeoutMs` fails the write with `E_ENGINE_HOOK_TIMEOUT`
 *   (retriable). The source of truth may or may not have the write, so the cached key is dropped
 *   rather than left possibly stale; a late settlement is ignored.
 * - Writes to one key are serialised: the next hook call for a key starts after the previous one
 *   settled, so the cache applies writes to a key in arrival order. Different keys run concurrently.
 * - The first matching hook (registration order) wins.
 */
import type { Clock } from './clock.ts';
import { EngineError, EngineErrorCode } from './errors.ts';
import { globMatch } from './glob.ts';

/** A change handed to a hook. */
export type HookChange =
  | { op: 'set'; key: string; value: Buffer; ttlMs: number | null }
  | { op: 'delete'; key: string };

/** A write-through hook registration. Exactly one of `prefix` or `pattern`. */
export interface WriteThroughHook {
  /** Keys starting with this prefix. */
  prefix?: string;
  /** Keys matching this Valkey glob pattern. */
  pattern?: string;
  /** Persists the change to the source of truth; rejects to refuse it. */
  persist(change: HookChange): Promise<void> | void;
  /** How long `persist` may take. @default 5000 */
  timeoutMs?: number;
}

/** Default hook timeout in milliseconds. */
export const DEFAULT_HOOK_TIMEOUT_MS = 5000;

/** Hook registry and per-key serialisation. */
export class WriteThrough {
  #hooks: WriteThroughHook[] = [];
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** True when any hook is registered. */
  get active(): boolean {
    return this.#hooks.length > 0;
  }

  /** Registers a hook; returns a function that removes it. */
  add(hook: WriteThroughHook): () => void {
    if ((hook.prefix === undefined) === (hook.pattern === undefined)) {
      throw new EngineError(
        EngineErrorCode.Config,
        'write-through hook needs exactly one of `prefix` or `pattern`',
      );
    }
    if (hook.timeoutMs !== undefined && !(hook.timeoutMs > 0)) {
      throw new EngineError(
        EngineErrorCode.Config,
        'write-through hook `timeoutMs` must be a positive number',
      );
    }
    this.#hooks.push(hook);
    return () => {
      this.#hooks = this.#hooks.filter((h) => h !== hook);
    };
  }

  /** The hook covering `key`, if any. */
  match(key: string): WriteThroughHook | undefined {
    for (const h of this.#hooks) {
      if (h.prefix !== undefined ? key.startsWith(h.prefix) : globMatch(h.pattern!, key)) return h;
    }
    return undefined;
  }

  /**
   * Runs `change` through `hook` (serialised per key), then `apply`. On timeout calls `onTimeout`
   * (the caller drops the key) and rejects.
   */
  run<T>(hook: WriteThroughHook, change: HookChange, apply: () => T, onTimeout: () => void): Promise<T> {
    const key = change.key;
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.#runOne(hook, change, apply, onTimeout));
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return next;
  }

  async #runOne<T>(
    hook: WriteThroughHook,
    change: HookChange,
    apply: () => T,
    onTimeout: () => void,
  ): Promise<T> {
    const timeoutMs = hook.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    let cancel = (): void => {};
    const timedOut = Symbol('timeout');
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => hook.persist(change)),
        new Promise<typeof timedOut>((resolve) => {
          cancel = this.#clock.setTimer(() => resolve(timedOut), timeoutMs);
        }),
      ]);
      if (result === timedOut) {
        onTimeout();
        throw new EngineError(
          EngineErrorCode.HookTimeout,
          `write-through hook timed out after ${timeoutMs}ms`,
          {
            retriable: true,
          },
        );
      }
    } catch (error) {
      if (error instanceof EngineError && error.code === EngineErrorCode.HookTimeout) throw error;
      const msg = error instanceof Error ? error.message : String(error);
      throw new EngineError(EngineErrorCode.HookFailed, `write-through hook failed: ${msg}`, {
        cause: error,
      });
    } finally {
      cancel();
    }
    return apply();
  }
}
