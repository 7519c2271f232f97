/**
 * A ShardLeaseStore in a directory: one JSON file per shard (`owner`, `expiresAt`, `sequenceNumber`,
 * `finished`), replaced atomically (write to a temp file, rename). Read-modify-write of a shard's
 * file is serialised across processes by a lock directory (`mkdir` is atomic); a lock older than
 * `staleLockMs` is from a dead process and is broken. Works for workers on one host or on a shared
 * POSIX file system; the clock is the host's (expiry compares wall-clock times). Worker heartbeats
 * are files `_workers/<worker>.json` holding `expiresAt`.
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ShardCheckpoint, ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';

interface ShardFile extends ShardCheckpoint {
  shardId?: string;
  owner?: string;
  expiresAt?: number;
}

/** Options of {@link createFileLeaseStore}. */
export interface FileLeaseStoreOptions {
  dir: string;
  /** @default Date.now */
  now?: () => number;
  /** @default 5000 */
  staleLockMs?: number;
}

const safe = (shardId: string) => shardId.replace(/[^A-Za-z0-9._-]/g, '_');

/** Creates a directory-backed lease store. */
export async function createFileLeaseStore(o: FileLeaseStoreOptions): Promise<ShardLeaseStore> {
  await mkdir(o.dir, { recursive: true });
  const workersDir = join(o.dir, '_workers');
  await mkdir(workersDir, { recursive: true });
  const now = o.now ?? Date.now;
  const staleLockMs = o.staleLockMs ?? 5000;
  const file = (id: string) => join(o.dir, `${safe(id)}.json`);

  async function read(id: string): Promise<ShardFile> {
    try {
      return JSON.parse(await readFile(file(id), 'utf8')) as ShardFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  async function write(id: string, s: ShardFile): Promise<void> {
    const tmp = `${file(id)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...s, shardId: id }));
    await rename(tmp, file(id));
  }

  async function locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(o.dir, `${safe(id)}.lock`);
    for (let i = 0; ; i++) {
      try {
        await mkdir(lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const st = await stat(lock).catch(() => undefined);
        if (st !== undefined && Date.now() - st.mtimeMs > staleLockMs) await rmdir(lock).catch(() => {});
        if (i > 2000) throw new Error(`lease store: ${lock} stays locked`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    try {
      return await fn();
    } finally {
      await rmdir(lock).catch(() => {});
    }
  }

  const held = (s: ShardFile, owner: string) => s.owner === owner && (s.expiresAt ?? 0) > now();
  const holderOf = (s: ShardFile) =>
    s.owner !== undefined && (s.expiresAt ?? 0) > now() ? s.owner : undefined;
  const workerFile = (owner: string) => join(workersDir, `${safe(owner)}.json`);

  return {
    acquire: (id, owner, ttlMs) =>
      locked(id, async () => {
        const s = await read(id);
        if (s.owner !== undefined && s.owner !== owner && (s.expiresAt ?? 0) > now()) return false;
        await write(id, { ...s, owner, expiresAt: now() + ttlMs });
        return true;
      }),
    renew: (id, owner, ttlMs) =>
      locked(id, async () => {
        const s = await read(id);
        if (!held(s, owner)) return false;
        await write(id, { ...s, expiresAt: now() + ttlMs });
        return true;
      }),
    release: (id, owner) =>
      locked(id, async () => {
        const s = await read(id);
        if (s.owner !== owner) return;
        const { owner: _o, expiresAt: _e, ...rest } = s;
        await write(id, rest);
      }),
    async checkpoint(id) {
      const s = await read(id);
      const c: ShardCheckpoint = {};
      if (s.sequenceNumber !== undefined) c.sequenceNumber = s.sequenceNumber;
      if (s.finished) c.finished = true;
      if (s.skipped) c.skipped = true;
      return c;
    },
    setCheckpoint: (id, owner, c) =>
      locked(id, async () => {
        const s = await read(id);
        if (!held(s, owner)) return false;
        await write(id, { ...s, ...c });
        return true;
      }),
    async heartbeat(owner, ttlMs) {
      const tmp = `${workerFile(owner)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, JSON.stringify({ owner, expiresAt: now() + ttlMs }));
      await rename(tmp, workerFile(owner));
    },
    async leave(owner) {
      await rm(workerFile(owner), { force: true });
    },
    async liveWorkers() {
      const out: string[] = [];
      for (const name of await readdir(workersDir)) {
        if (!name.endsWith('.json')) continue;
        try {
          const w = JSON.parse(await readFile(join(workersDir, name), 'utf8')) as {
            owner: string;
            expiresAt: number;
          };
          if (w.expiresAt > now()) out.push(w.owner);
        } catch {
          // Being replaced or removed; the next scan sees it.
        }
      }
      return out.sort();
    },
    async holders(ids) {
      const out = new Map<string, string>();
      await Promise.all(
        ids.map(async (id) => {
          const owner = holderOf(await read(id).catch(() => ({}) as ShardFile));
          if (owner !== undefined) out.set(id, owner);
        }),
      );
      return out;
    },
    steal: (id, from, owner, ttlMs) =>
      locked(id, async () => {
        const s = await read(id);
        const holder = holderOf(s);
        if (holder === owner) return true;
        if (holder !== from) return false;
        await write(id, { ...s, owner, expiresAt: now() + ttlMs });
        return true;
      }),
    async finished() {
      const out = new Set<string>();
      for (const name of await readdir(o.dir)) {
        if (!name.endsWith('.json')) continue;
        try {
          const s = JSON.parse(await readFile(join(o.dir, name), 'utf8')) as ShardFile;
          if (s.finished) out.add(s.shardId ?? name.slice(0, -5));
        } catch {
          // A file being replaced; the next scan sees it.
        }
      }
      return out;
    },
  };
}
