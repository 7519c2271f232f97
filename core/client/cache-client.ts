/**
 * The app-side cache client: cache-aside reads (`getOrLoad`), write-through writes and
 * invalidations over any FillLeaseStore (embedded engine, engine over RESP, Valkey), cooperating with
 * the CDC pipeline through the store's leases and versions.
 *
 * getOrLoad, in order:
 * 1. In-process single-flight: concurrent calls for one key share one promise.
 * 2. Read value + remaining TTL. Fresh → hit (the arithmetic is freshness.ts). Values are stored
 *    with a physical TTL of `ttl + max(staleWhileRevalidate, staleIfError)`; in the last part of its
 *    life a value is stale: within `staleWhileRevalidateMs` it is served while one caller refreshes
 *    in the background; beyond that (the stale-if-error grace) it is reloaded, and served only if the
 *    loader fails.
 *    XFetch (`earlyRefreshBeta`) may refresh a still-fresh value early, in the background.
 * 3. Miss → take the key's lease (one loader across all processes), re-read under it (a fill may
 *    have landed since the first read), load, fill under the lease
 *    (rejected if an invalidation or refresh came in between: the loaded value is still returned,
 *    the cache is not filled with it). Without the lease, wait (engine: woken; Valkey: bounded
 *    backoff) and re-read; if the holder gave up, take the lease; after `lockWaitTimeoutMs`, load
 *    without filling.
 * 4. Soft invalidation (docs/soft-invalidation-and-tags.md): an entry the store reports stale is served
 *    with `staleWhileRevalidate` while one caller (the lease holder) reloads it in the background;
 *    without it the entry is a miss.
 * 5. Tags: with `tags`, the loader (or writeThrough's writer) runs only after the key joined every
 *    tag, and the fill carries the tag epochs the join answered, so a tag invalidation racing the load
 *    rejects or fences the fill (never a stale fill). `invalidateTag` (soft or hard) runs the rules'
 *    tag protocol from the app.
 * The cache is an optimisation: when it fails, reads fall back to the loader (`cache-error` event).
 */
import {
  CACHE_CLIENT_DEFAULTS,
  type CacheClient,
  type CacheClientOptions,
  checkOptions,
  type LoadOptions,
  type Resolved,
  type Writer,
} from './cache-client-options.ts';
import { type Codec, jsonCodec } from './codec.ts';
import type { CacheClientListener } from './events.ts';
import type {
  StoredEntry,
  TagEpochs,
  TagInvalidateOptions,
  TagInvalidateResult,
} from './fill-lease-store.ts';
import { freshMs, freshness, memberTtl, physicalTtl } from './freshness.ts';
import { attachNearCache } from './near-cache/attach.ts';
import type { NearCache, NearRead } from './near-cache/near-cache.ts';
import { unguardedLeaseStore } from './unguarded-store.ts';

export {
  CACHE_CLIENT_DEFAULTS,
  type CacheClient,
  type CacheClientOptions,
  type LoadOptions,
  type Writer,
} from './cache-client-options.ts';

/** Creates a cache client over `options.store`. */
export function createCacheClient(options: CacheClientOptions): CacheClient {
  const store = options.leases === false ? unguardedLeaseStore(options.store) : options.store;
  const D = CACHE_CLIENT_DEFAULTS;
  const defaults: Resolved = {
    ttlMs: options.ttlMs ?? D.ttlMs,
    staleWhileRevalidateMs: options.staleWhileRevalidateMs ?? D.staleWhileRevalidateMs,
    staleIfErrorMs: options.staleIfErrorMs ?? D.staleIfErrorMs,
    jitter: options.jitter ?? D.jitter,
    earlyRefreshBeta: options.earlyRefreshBeta ?? D.earlyRefreshBeta,
    leaseTtlMs: options.leaseTtlMs ?? D.leaseTtlMs,
    lockWaitTimeoutMs: options.lockWaitTimeoutMs ?? D.lockWaitTimeoutMs,
    staleWhileRevalidate: options.staleWhileRevalidate ?? D.staleWhileRevalidate,
  };
  checkOptions(defaults, 'options');
  const baseCodec = options.codec ?? jsonCodec;
  const emit: CacheClientListener = options.onEvent ?? (() => {});
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const [pollMin, pollMax] = options.pollBackoffMs ?? D.pollBackoffMs;
  const near: NearCache | undefined =
    options.near === undefined
      ? undefined
      : attachNearCache(options.near, store, emit, options.onEvent !== undefined);
  const flights = new Map<string, Promise<unknown>>();
  const background = new Map<string, Promise<void>>();
  // Moving average of load times: XFetch's Δ (one figure per client; keys usually cost alike).
  let loadMs = 0;

  function resolve<T>(o: LoadOptions<T> | undefined): Resolved {
    if (o === undefined) return defaults;
    const r: Resolved = { ...defaults };
    const target = r as Record<keyof Resolved, unknown>;
    for (const k of Object.keys(defaults) as (keyof Resolved)[]) if (o[k] !== undefined) target[k] = o[k];
    checkOptions(r, 'call options');
    return r;
  }

  /** Joins the call's tags (before loading or writing): the epochs to fill with, undefined without tags. */
  async function join(
    key: string,
    o: Resolved,
    tags: readonly string[] | undefined,
  ): Promise<TagEpochs | undefined> {
    if (tags === undefined || tags.length === 0) return undefined;
    return store.joinTags(key, tags, memberTtl(o));
  }

  async function loadAndFill<T>(
    key: string,
    token: string,
    loader: (key: string) => Promise<T>,
    o: Resolved,
    call: LoadOptions<T> | undefined,
  ): Promise<T> {
    let epochs: TagEpochs | undefined;
    try {
      epochs = await join(key, o, call?.tags);
    } catch (error) {
      // Without the join a fill could miss a tag invalidation: load, and do not fill.
      emit({ type: 'cache-error', key, error });
      await store.releaseLease(key, token).catch(() => {});
      return loader(key);
    }
    const started = now();
    let value: T;
    try {
      value = await loader(key);
    } catch (error) {
      emit({ type: 'load-error', key, error });
      await store.releaseLease(key, token).catch((e) => emit({ type: 'cache-error', key, error: e }));
      throw error;
    }
    const took = now() - started;
    loadMs = loadMs === 0 ? took : loadMs * 0.8 + took * 0.2;
    emit({ type: 'load', key, durationMs: took });
    try {
      const codec = (call?.codec ?? baseCodec) as Codec<T>;
      const version = call?.version?.(value);
      const outcome = await store.fill(
        key,
        token,
        codec.encode(value),
        physicalTtl(o, random),
        version,
        epochs,
      );
      emit(outcome === 'filled' ? { type: 'fill', key } : { type: 'lease-rejected', key, outcome });
    } catch (error) {
      emit({ type: 'cache-error', key, error });
    }
    return value;
  }

  function refreshInBackground<T>(
    key: string,
    loader: (key: string) => Promise<T>,
    o: Resolved,
    call: LoadOptions<T> | undefined,
  ): void {
    if (background.has(key)) return;
    const run = (async () => {
      const token = await store.acquireLease(key, o.leaseTtlMs);
      if (token !== null) await loadAndFill(key, token, loader, o, call);
    })()
      .catch(() => {}) // load errors were emitted; the stale value was already served
      .finally(() => background.delete(key));
    background.set(key, run);
  }

  async function getOrLoadUncached<T>(
    key: string,
    loader: (key: string) => Promise<T>,
    call: LoadOptions<T> | undefined,
    nearRead?: NearRead,
  ): Promise<T> {
    const o = resolve(call);
    const codec = (call?.codec ?? baseCodec) as Codec<T>;
    let entry: StoredEntry | null;
    try {
      entry = nearRead === undefined ? await store.read(key) : await near!.tracker!.read(key);
    } catch (error) {
      emit({ type: 'cache-error', key, error });
      return loader(key);
    }
    let stale: StoredEntry | null = null;
    if (entry?.stale) {
      // Soft-invalidated: served while the lease holder reloads, or a miss.
      if (o.staleWhileRevalidate) {
        emit({ type: 'stale', key, reason: 'soft-invalidated' });
        refreshInBackground(key, loader, o, call);
        return codec.decode(entry.value);
      }
      emit({ type: 'miss', key, softInvalidated: true });
      entry = null;
    } else if (entry !== null) {
      const state = freshness(entry, o, loadMs, random);
      if (state === 'fresh') {
        emit({ type: 'hit', key });
        const value = codec.decode(entry.value);
        if (nearRead !== undefined) near!.install(nearRead, value, entry.value.length, freshMs(entry, o));
        return value;
      }
      if (state !== 'grace') {
        emit(
          state === 'early' ? { type: 'early-refresh', key } : { type: 'stale', key, reason: 'revalidate' },
        );
        refreshInBackground(key, loader, o, call);
        return codec.decode(entry.value);
      }
      stale = entry;
    } else {
      emit({ type: 'miss', key });
    }

    const waitStart = now();
    const deadline = waitStart + o.lockWaitTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      let token: string | null;
      try {
        token = await store.acquireLease(key, o.leaseTtlMs);
        // Another loader may have filled between our read and our lease (its lease ended with the
        // fill): re-read under the lease, so a fill that already happened is never loaded again.
        if (token !== null && stale === null) {
          const filled = await store.read(key);
          if (filled !== null && !filled.stale) {
            await store.releaseLease(key, token);
            if (attempt > 0) emit({ type: 'lock-wait', key, waitedMs: now() - waitStart, outcome: 'value' });
            return codec.decode(filled.value);
          }
        }
      } catch (error) {
        emit({ type: 'cache-error', key, error });
        return loader(key);
      }
      if (token !== null) {
        if (attempt > 0) emit({ type: 'lock-wait', key, waitedMs: now() - waitStart, outcome: 'lease' });
        if (stale === null) return loadAndFill(key, token, loader, o, call);
        try {
          return await loadAndFill(key, token, loader, o, call);
        } catch {
          emit({ type: 'stale', key, reason: 'load-error' });
          return codec.decode(stale.value);
        }
      }
      if (stale !== null) {
        emit({ type: 'stale', key, reason: 'lease-held' });
        return codec.decode(stale.value);
      }
      const left = deadline - now();
      if (left <= 0) break;
      const slice = store.wakes
        ? Math.min(left, D.wakeSliceMs)
        : Math.min(left, pollMax, pollMin * 2 ** attempt);
      try {
        if (store.wakes) await store.waitForFill(key, slice);
        else await sleep(slice);
        entry = await store.read(key);
      } catch (error) {
        emit({ type: 'cache-error', key, error });
        return loader(key);
      }
      if (entry !== null && !entry.stale) {
        emit({ type: 'lock-wait', key, waitedMs: now() - waitStart, outcome: 'value' });
        return codec.decode(entry.value);
      }
    }
    emit({ type: 'lock-wait', key, waitedMs: now() - waitStart, outcome: 'timeout' });
    const started = now();
    const value = await loader(key);
    emit({ type: 'load', key, durationMs: now() - started });
    return value;
  }

  async function invalidateTag(tag: string, call?: TagInvalidateOptions): Promise<TagInvalidateResult> {
    const done = await store.invalidateTag(tag, call);
    // The server's tracking tells the other processes; this one drops the keys before it answers
    // (read-your-invalidations), and reads of them in flight are not kept.
    for (const key of done.keys) {
      flights.delete(key);
      near?.drop(key);
    }
    return done;
  }

  return {
    getOrLoad<T>(key: string, loader: (key: string) => Promise<T>, call?: LoadOptions<T>): Promise<T> {
      if (near !== undefined) {
        const local = near.getResolved(key);
        if (local !== undefined) return local as Promise<T>;
      }
      const pending = flights.get(key);
      if (pending !== undefined) return pending as Promise<T>;
      const nearRead = near?.begin(key);
      const p = getOrLoadUncached(key, loader, call, nearRead).finally(() => {
        if (nearRead !== undefined) near!.end(nearRead);
        if (flights.get(key) === p) flights.delete(key);
      });
      flights.set(key, p);
      return p;
    },
    async get<T>(key: string, call?: Pick<LoadOptions<T>, 'codec'>): Promise<T | undefined> {
      const codec = (call?.codec ?? baseCodec) as Codec<T>;
      if (near === undefined) {
        const entry = await store.read(key);
        return entry === null ? undefined : codec.decode(entry.value);
      }
      const local = near.get(key);
      if (local !== undefined) return local as T;
      const nearRead = near.begin(key);
      try {
        const entry = nearRead === undefined ? await store.read(key) : await near.tracker!.read(key);
        if (entry === null) return undefined;
        const value = codec.decode(entry.value);
        // A soft-invalidated entry is answered (get returns stale values) but never kept near.
        if (nearRead !== undefined && !entry.stale)
          near.install(nearRead, value, entry.value.length, freshMs(entry, defaults));
        return value;
      } finally {
        if (nearRead !== undefined) near.end(nearRead);
      }
    },
    async writeThrough<T>(key: string, value: T, writer: Writer<T>, call?: LoadOptions<T>): Promise<void> {
      const o = resolve(call);
      const codec = (call?.codec ?? baseCodec) as Codec<T>;
      const bytes = codec.encode(value);
      // Tags are joined before the source of truth changes (see module comment, 5).
      let epochs: TagEpochs | undefined;
      let joinError: unknown;
      try {
        epochs = await join(key, o, call?.tags);
      } catch (error) {
        joinError = error;
      }
      const written = await writer(value);
      const version = (written ?? undefined)?.version ?? call?.version?.(value);
      flights.delete(key);
      near?.drop(key);
      try {
        if (joinError !== undefined) throw joinError;
        await store.write(key, bytes, physicalTtl(o, random), version, epochs);
        // Again once written: a read that raced the write is not kept (read-your-writes here; the
        // server's invalidation reaches the other processes).
        near?.drop(key);
      } catch (error) {
        // The source changed but the cache could not follow: drop the entry (the CDC pipeline's
        // invalidation is the backstop when this fails too).
        await store.invalidate(key).catch(() => {});
        near?.drop(key);
        throw error;
      }
    },
    async invalidate(keys, call) {
      const list = typeof keys === 'string' ? [keys] : keys;
      for (const key of list) {
        flights.delete(key);
        near?.drop(key);
      }
      await Promise.all(list.map((key) => store.invalidate(key, call?.version)));
      if (near !== undefined) for (const key of list) near.drop(key);
    },
    invalidateTag,
    async invalidateTags(tags, call) {
      const out: TagInvalidateResult[] = [];
      for (const tag of tags) out.push(await invalidateTag(tag, call));
      return out;
    },
    softInvalidateTag: (tag, call) => invalidateTag(tag, { ...call, soft: true }),
    async close() {
      await Promise.all([...background.values()]);
      await near?.close();
      await store.close();
    },
    nearStats: () => near?.stats(),
  };
}
