/**
 * The pipeline's fast path into Valkey: key ops (refresh, invalidate) go out as chunks, each chunk
 * one EVALSHA of the APPLY script (valkey-scripts.ts) that applies every op of the chunk in order,
 * fenced exactly as the one-op REFRESH/INVALIDATE scripts, and answers one code per op. Per-command
 * client cost (iovalkey builds objects and a timer per command) and per-call script setup on the
 * server are paid once per chunk instead of once per op; that was the whole cost of the old path.
 *
 * Invariants:
 * - Cluster-safe by construction: in a cluster a chunk holds the ops of one slot (key and siblings
 *   share it, valkey-keys.ts); on a standalone server any ops share a chunk.
 * - Bounded: a chunk has at most `maxOpsPerScript` ops and `maxBytesPerScript` bytes (one bigger op
 *   goes alone); chunks go out in per-node pipelines of about `maxOpsPerPipeline` ops, at most
 *   `maxInFlight` pipelines outstanding.
 * - Exact results: an op is applied or fenced only when its code in the server's reply says so. A
 *   chunk without a reply (connection lost, timeout) or refused whole (OOM, BUSY, MOVED) fails every
 *   op of it with that error, retriable when the error is; ops are idempotent, so a retry is safe.
 * - Order per key: a key's ops stay in one slot's chunks, in order, on one connection.
 * - NOSCRIPT (restart, failover, SCRIPT FLUSH): scripts are reloaded and the chunk is resent once.
 */
import { TargetError } from '../../errors.ts';
import { versionSortKey } from '../../event/version.ts';
import type { InvalidateOp, RefreshOp } from '../cache-op.ts';
import type { OpResult } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { keySlot } from './slots.ts';
import type { ValkeyClient } from './valkey-connection.ts';
import { isReserved, RESERVED_PREFIX, siblingTag } from './valkey-keys.ts';
import { loadScripts, type RunnerLimits, resolveLimits, runPool } from './valkey-runner.ts';
import { APPLY } from './valkey-scripts.ts';

/** An op the batch path applies. */
export type KeyOp = InvalidateOp | RefreshOp;

// Shared, frozen: a hot path allocates nothing per confirmed op.
const APPLIED: OpResult = Object.freeze({ ok: true, outcome: 'applied' });
const FENCED: OpResult = Object.freeze({ ok: true, outcome: 'fenced' });

/** One APPLY call: `at` are the ops' indexes in the caller's results. */
interface Chunk {
  at: number[];
  kinds: string;
  keys: string[];
  args: string[];
  bytes: number;
}

function newChunk(): Chunk {
  return { at: [], kinds: '', keys: [], args: [], bytes: 0 };
}

function invalidInput(message: string, cause?: unknown): OpResult {
  return { ok: false, error: new TargetError(`valkey: ${message}`, { cause, retriable: false }) };
}

/** An error reply from inside the script, classified like any reply (toTargetError). */
function replyError(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

/** Applies key ops through the APPLY script; see the module comment. */
export class KeyOpApplier {
  readonly #conn: ValkeyClient;
  readonly #limits: Required<RunnerLimits>;
  readonly #tombstoneTtl: string;
  readonly #legacyLeases: string;

  /** `legacyLeases`: also cancel layout-1 lease siblings (an upgrade; see valkey-scripts.ts). */
  constructor(conn: ValkeyClient, limits: RunnerLimits, tombstoneTtlMs: number, legacyLeases = false) {
    this.#conn = conn;
    this.#limits = resolveLimits(limits);
    this.#tombstoneTtl = String(tombstoneTtlMs);
    this.#legacyLeases = legacyLeases ? '1' : '0';
  }

  /**
   * Applies `ops[from..to)` (key ops only; the caller keeps prefix ops out) and writes each op's
   * result at its index in `results`. Never rejects.
   */
  async apply(ops: readonly KeyOp[], from: number, to: number, results: OpResult[]): Promise<void> {
    const pending = this.#chunks(ops, from, to, results);
    const noscript: Chunk[][] = [];
    await this.#send(pending, results, noscript);
    if (noscript.length === 0) return;
    try {
      await loadScripts(this.#conn);
    } catch (error) {
      const e = toTargetError(error, 'valkey: reloading scripts');
      for (const c of noscript.flat()) for (const i of c.at) results[i] = { ok: false, error: e };
      return;
    }
    await this.#send(noscript, results, undefined);
  }

  /** Groups ops into chunks and the chunks into per-node pipelines; bad input fails here. */
  #chunks(ops: readonly KeyOp[], from: number, to: number, results: OpResult[]): Chunk[][] {
    const { maxOpsPerScript, maxBytesPerScript, maxOpsPerPipeline } = this.#limits;
    const conn = this.#conn;
    // Per node: its closed chunks, in order; per slot (cluster) or one (standalone): the open chunk.
    const closed = new Map<string, Chunk[]>();
    const open = new Map<number, Chunk>();
    const nodeOf = (slot: number) => (conn.cluster ? (conn.client.slots[slot]?.[0] ?? '') : '');
    const close = (slot: number, c: Chunk) => {
      const node = nodeOf(slot);
      const list = closed.get(node);
      if (list === undefined) closed.set(node, [c]);
      else list.push(c);
      open.delete(slot);
    };
    for (let i = from; i < to; i++) {
      const op = ops[i]!;
      const key = op.key;
      if (isReserved(key)) {
        results[i] = invalidInput(`key "${key}" starts with the reserved prefix ${RESERVED_PREFIX}`);
        continue;
      }
      let version: string;
      try {
        version = versionSortKey(op.version);
      } catch (error) {
        results[i] = invalidInput((error as Error).message, error);
        continue;
      }
      const slot = conn.cluster ? keySlot(key) : 0;
      let c = open.get(slot);
      if (c === undefined) {
        c = newChunk();
        open.set(slot, c);
      }
      c.at.push(i);
      c.keys.push(key);
      // V is named by the script; a key with braces passes its slot tag (upper-case kind).
      const tag = siblingTag(key);
      if (tag !== null) c.args.push(tag);
      if (op.kind === 'refresh') {
        c.kinds += tag === null ? 'r' : 'R';
        c.args.push(version, String(Math.max(0, Math.trunc(op.ttlMs))), op.value);
        c.bytes += key.length + version.length + op.value.length + 40;
      } else {
        c.kinds += tag === null ? 'i' : 'I';
        c.args.push(version);
        c.bytes += key.length + version.length + 30;
      }
      if (c.at.length >= maxOpsPerScript || c.bytes >= maxBytesPerScript) close(slot, c);
    }
    for (const [slot, c] of open) close(slot, c);
    // Pipelines: a node's chunks, in order, about maxOpsPerPipeline ops each (at least one chunk).
    const pipelines: Chunk[][] = [];
    for (const chunks of closed.values()) {
      let p: Chunk[] = [];
      let n = 0;
      for (const c of chunks) {
        if (n > 0 && n + c.at.length > maxOpsPerPipeline) {
          pipelines.push(p);
          p = [];
          n = 0;
        }
        p.push(c);
        n += c.at.length;
      }
      if (p.length > 0) pipelines.push(p);
    }
    return pipelines;
  }

  async #send(pipelines: Chunk[][], results: OpResult[], noscript: Chunk[][] | undefined): Promise<void> {
    const tasks = pipelines.map((chunks) => () => this.#pipeline(chunks, results, noscript));
    await runPool(tasks, this.#limits.maxInFlight);
  }

  async #pipeline(chunks: Chunk[], results: OpResult[], noscript: Chunk[][] | undefined): Promise<void> {
    const p = this.#conn.client.pipeline();
    for (const c of chunks) {
      p.evalsha(
        APPLY.sha,
        c.keys.length,
        ...c.keys,
        c.kinds,
        this.#tombstoneTtl,
        this.#legacyLeases,
        ...c.args,
      );
    }
    let replies: [Error | null, unknown][];
    try {
      replies = (await p.exec()) ?? [];
    } catch (error) {
      const e = toTargetError(error);
      for (const c of chunks) for (const i of c.at) results[i] = { ok: false, error: e };
      return;
    }
    const retry: Chunk[] = [];
    chunks.forEach((c, n) => {
      const r = replies[n];
      if (r === undefined) this.#fail(c, new Error('no reply (connection lost)'), results);
      else if (r[0]) {
        if (noscript !== undefined && r[0].message.startsWith('NOSCRIPT')) retry.push(c);
        else this.#fail(c, r[0], results);
      } else this.#settle(c, r[1], results);
    });
    if (retry.length > 0) noscript?.push(retry);
  }

  #fail(c: Chunk, error: unknown, results: OpResult[]) {
    const e = toTargetError(error);
    for (const i of c.at) results[i] = { ok: false, error: e };
  }

  #settle(c: Chunk, reply: unknown, results: OpResult[]) {
    const parts = Array.isArray(reply) ? (reply as unknown[]) : [];
    const codes = parts[0];
    if (typeof codes !== 'string' || codes.length !== c.at.length) {
      const e = new TargetError(`valkey: unexpected reply from the apply script: ${String(reply)}`, {
        retriable: false,
      });
      for (const i of c.at) results[i] = { ok: false, error: e };
      return;
    }
    let next = 1;
    for (let n = 0; n < codes.length; n++) {
      const code = codes.charCodeAt(n);
      const i = c.at[n]!;
      if (code === 49) results[i] = APPLIED;
      else if (code === 48) results[i] = FENCED;
      else results[i] = { ok: false, error: toTargetError(replyError(String(parts[next++]))) };
    }
  }
}
