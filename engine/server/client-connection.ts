/**
 * One client connection: reads, parses and runs commands in order, and writes the replies of every
 * command parsed from one socket read with a single write.
 *
 * Invariants:
 * - Replies leave in request order. An asynchronous command (write-through hook, CACHE.WAIT, a
 *   blocking pop) holds the commands behind it until it settles; reading goes on, so a disconnect
 *   is seen while blocked.
 * - Buffering is bounded on both sides. Output: once the replies not yet taken by the kernel pass the
 *   writer's high-water mark, the connection stops running commands (and reading) until the client
 *   reads; so a client that pipelines GETs of a 50 MB value and never reads holds about one reply,
 *   not forty. Valkey's client-output-buffer-limit closes a client whose output passes the hard
 *   limit (or stays above the soft one). Input: the parser bounds unparsed input
 *   (client-query-buffer-limit, proto-max-bulk-len; see resp-parser.ts).
 * - A protocol error writes `-ERR Protocol error: …` and closes the connection, like Valkey. No error
 *   inside the connection ever escapes to the process.
 * - Closing drops every buffer the connection holds (parser input, queued replies), so a client that
 *   leaves with a huge pending upload or reply leaves nothing referenced.
 */
import type { Socket } from 'node:net';
import { systemClock } from '../clock.ts';
import type { Engine } from '../engine.ts';
import { AccessTracking, KIND_BITS, KIND_MASK, Kind } from '../keyspace.ts';
import type {
  ClientEntry,
  ClientState,
  CommandContext,
  CommandSpec,
  ServerState,
} from './command-context.ts';
import { dispatch } from './command-table.ts';
import { serveReadyClients, unblockClient } from './commands/blocking.ts';
import { endTransaction } from './commands/transactions.ts';
import type { PushMessage } from './push-message.ts';
import { ReplyWriter } from './reply-writer.ts';
import { FAST_GET, FAST_NONE, ProtocolError, RespParser } from './resp-parser.ts';
import { SocketWriter } from './socket-writer.ts';

/** Node's undocumented but stable Buffer#latin1Slice (see resp-parser.ts). */
interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

/** Replies accumulated past this are written before the next command runs (bounds the reply buffer). */
const FLUSH_EARLY_BYTES = 256 * 1024;

/** Serves one socket. */
export class ClientConnection implements ClientEntry {
  readonly client: ClientState;
  readonly w = new ReplyWriter();
  lastInteraction = systemClock.now();
  softLimitSince = 0;
  readonly #socket: Socket;
  readonly #parser: RespParser;
  readonly #table: Map<string, CommandSpec>;
  readonly #server: ServerState;
  readonly #ctx: { -readonly [K in keyof CommandContext]: CommandContext[K] };
  readonly #out: SocketWriter;
  #pending = false;
  #backpressure = false;
  #closed = false;
  /** Pushes for this client produced by its own running command: they follow its reply. */
  #deferred: Buffer[] | null = null;
  #pushFlushScheduled = false;

  /**
   * With `externalReads`, the caller delivers reads through {@link ClientConnection.onRead} (a
   * socket created with `onread`, see read-path.ts) instead of `'data'` events.
   */
  constructor(
    socket: Socket,
    id: number,
    engine: Engine,
    server: ServerState,
    table: Map<string, CommandSpec>,
    externalReads = false,
  ) {
    this.#socket = socket;
    this.#server = server;
    this.#table = table;
    const w = this.w;
    this.client = {
      id,
      name: '',
      authenticated: server.requirepass === null && server.users.get('default')!.enabled,
      addr: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      laddr: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      createdAt: Date.now(),
      lastCommand: 'NULL',
      closeAfterReply: false,
      authFailures: 0,
      user: server.users.get('default')!,
      pubsub: null,
      tracking: null,
      get resp() {
        return w.resp;
      },
      push: (message: PushMessage) => this.#push(message),
      tx: null,
      noTouch: false,
    };
    this.#parser = new RespParser(server.protoMaxBulkLen, server.clientQueryBufferLimit);
    this.#parser.unauthenticated = !this.client.authenticated;
    this.#ctx = { engine, core: engine.core, w: this.w, client: this.client, server, now: 0 };
    socket.setNoDelay(true);
    this.#out = new SocketWriter(
      socket,
      () => this.#drained(),
      (written) => this.w.recycle(written),
    );
    if (!externalReads) socket.on('data', (chunk: Buffer) => this.onRead(chunk, false));
    socket.on('error', () => this.kill());
    socket.on('close', () => this.#release());
  }

  /** The reply writer (kept under its old name for the command table's CLIENT LIST). */
  get writer(): ReplyWriter {
    return this.w;
  }

  get blocked(): boolean {
    return this.#pending;
  }

  memory(): number {
    return this.#parser.buffered + this.w.length + this.#out.pending + (this.client.tx?.bytes ?? 0);
  }

  outputBytes(): number {
    return this.w.length + this.#out.pending;
  }

  queryBytes(): number {
    return this.#parser.buffered;
  }

  /** Closes the connection at once, dropping what it holds. */
  kill(): void {
    this.#release();
    this.#socket.destroy();
  }

  /**
   * Handles received bytes `chunk[0, end)`; a `transient` chunk is reused by the caller after this
   * returns.
   */
  onRead(chunk: Buffer, transient: boolean, end = chunk.length): void {
    if (this.#closed) return;
    this.lastInteraction = systemClock.now();
    try {
      this.#parser.feed(chunk, transient, end);
      if (!this.#pending && !this.#backpressure) this.#drain();
      if (transient) this.#parser.detach();
    } catch (error) {
      // The parser and dispatch never throw past their own error replies; if something does, this
      // client goes, the process stays.
      this.#fail(error);
    }
  }

  /** Where the next socket read may go straight into (see RespParser.directTarget), or null. */
  directReadTarget(): Buffer | null {
    return this.#closed ? null : this.#parser.directTarget();
  }

  /** Handles `n` bytes read into `view`, a view {@link ClientConnection.directReadTarget} gave. */
  onDirectRead(view: Buffer, n: number): void {
    if (this.#closed) return;
    this.lastInteraction = systemClock.now();
    try {
      if (!this.#parser.receivedDirect(view, n)) throw new Error('read into a stale bulk buffer');
      if (!this.#pending && !this.#backpressure) this.#drain();
    } catch (error) {
      this.#fail(error);
    }
  }

  #drained(): void {
    if (!this.#backpressure || this.#closed) return;
    this.#backpressure = false;
    if (this.#pending) return;
    this.#socket.resume();
    try {
      this.#drain();
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    const message = error instanceof Error ? error.message : String(error);
    this.w.error(`ERR ${message}`);
    this.#flush();
    this.#close();
  }

  #drain(): void {
    const parser = this.#parser;
    const ctx = this.#ctx;
    const core = ctx.core;
    const w = this.w;
    parser.maxBulkLen = this.#server.protoMaxBulkLen;
    parser.maxRequestBytes = this.#server.clientQueryBufferLimit;
    // One clock reading per socket read: commands parsed from one read share it (as Valkey caches
    // its clock per event-loop iteration); async commands re-read the clock when they resume.
    ctx.now = core.clock.now();
    const client = this.client;
    for (;;) {
      let args: string[] | null;
      try {
        // GET and SET of a plain client skip the argument strings and the dispatch (see #runFast);
        // whatever that path cannot take runs through dispatch with the same arguments.
        if (
          client.tx === null &&
          client.pubsub === null &&
          client.tracking === null &&
          client.authenticated &&
          client.user.unrestricted
        ) {
          const fast = parser.nextFast();
          if (fast === FAST_NONE) args = parser.next();
          else if (this.#runFast(fast)) {
            if (w.length >= FLUSH_EARLY_BYTES) {
              this.#flush();
              if (this.#backpressure || this.#closed) return;
            }
            continue;
          } else args = parser.fastArgs(fast);
        } else args = parser.next();
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        if (error.queryBufferLimit) this.#server.queryBufferLimitDisconnections++;
        if (!error.silent) w.error(`ERR ${error.message}`);
        this.#flush();
        this.#close();
        return;
      }
      if (args === null) break;
      this.#server.totalCommands++;
      const server = this.#server;
      server.current = this.client;
      server.currentArgs = args;
      const pending = dispatch(this.#table, ctx, core, args);
      server.current = null;
      server.currentArgs = null;
      if (this.#deferred !== null) this.#writeDeferred();
      // CLIENT CACHING yes|no applies to the next command only (any CLIENT subcommand keeps it).
      if (this.client.tracking?.caching && !this.client.lastCommand.startsWith('client'))
        this.client.tracking.caching = false;
      // Clients blocked on keys this command wrote are served now, before the next command (Valkey).
      serveReadyClients();
      parser.unauthenticated = !this.client.authenticated;
      if (pending !== undefined) {
        this.#pending = true;
        // Reading goes on (later commands wait in the parser, bounded by client-query-buffer-limit),
        // so a client that disconnects while blocked is noticed at once, as Valkey does.
        this.#flush();
        void pending.then(() => {
          this.#pending = false;
          this.lastInteraction = systemClock.now();
          if (this.#closed) return;
          if (this.client.closeAfterReply) {
            this.#flush();
            this.#close();
            return;
          }
          if (this.#backpressure) return;
          this.#socket.resume();
          try {
            this.#drain();
          } catch (error) {
            this.#fail(error);
          }
        });
        return;
      }
      if (this.client.closeAfterReply) {
        this.#flush();
        this.#close();
        return;
      }
      if (w.length >= FLUSH_EARLY_BYTES) {
        this.#flush();
        // The client is not reading: run nothing more until it does (see the header).
        if (this.#backpressure || this.#closed) return;
      }
    }
    this.#flush();
  }

  /**
   * Runs a GET or SET the parser recognised (RespParser.nextFast) straight from the read buffer:
   * the key is looked up by its bytes, so no key string, argument array or dispatch is made. It
   * only takes what the command handlers would do without side effects beyond the write itself:
   * a GET that misses or hits a live raw string; a SET with no write-through hooks, no listeners
   * (WATCH, tracking, keyspace events, blocked clients) and memory under the limit. Returns false, having done nothing, for anything else (the caller dispatches it).
   */
  #runFast(kind: number): boolean {
    const parser = this.#parser;
    const buf = parser.fastBuffer;
    const ctx = this.#ctx;
    const core = ctx.core;
    const ks = core.keyspace;
    const packed = ks.index.getBytes(buf, parser.fast.key, parser.fast.keyEnd);
    if (kind === FAST_GET) {
      if (packed === undefined) this.w.nil();
      else {
        if ((packed & KIND_MASK) !== Kind.Bytes) return false;
        const slot = packed >>> KIND_BITS;
        const at = ks.expireAt(slot);
        if (at !== 0 && ctx.now > at) return false;
        if (ks.tracking !== 0 && !this.client.noTouch) ks.touch(slot);
        this.w.bulk(ks.valueAt(slot) as string);
      }
      this.client.lastCommand = 'get';
    } else {
      if (
        ctx.engine.hooks.active ||
        core.listeners.active ||
        (core.maxmemory !== 0 && ks.usedBytes > core.maxmemory)
      )
        return false;
      const bytes = buf as unknown as Latin1Sliceable;
      const value = bytes.latin1Slice(parser.fast.value, parser.fast.valueEnd);
      // An existing key is written at the slot just found; only a new key needs a string.
      if (packed !== undefined) {
        // Valkey's SET looks the key up for writing: an access under LFU (see access-tracking.ts;
        // LRU stamps in the overwrite).
        if (ks.tracking === AccessTracking.Lfu && !this.client.noTouch) ks.touch(packed >>> KIND_BITS);
        core.writeStringAt(packed, Kind.Bytes, value, 0, ctx.now);
      } else
        core.writeString(
          bytes.latin1Slice(parser.fast.key, parser.fast.keyEnd),
          Kind.Bytes,
          value,
          0,
          ctx.now,
        );
      this.w.simple('OK');
      this.client.lastCommand = 'set';
    }
    this.#server.totalCommands++;
    return true;
  }

  /** See ClientState.push: after the running command's reply when it is this client's, else this turn. */
  #push(message: PushMessage): void {
    if (this.#closed) return;
    const bytes = message.bytes(this.w.resp);
    if (this.#server.current === this.client) {
      this.#deferred ??= [];
      this.#deferred.push(bytes);
      return;
    }
    this.w.raw(bytes);
    if (this.#pushFlushScheduled) return;
    this.#pushFlushScheduled = true;
    queueMicrotask(() => {
      this.#pushFlushScheduled = false;
      if (this.#closed) return;
      this.#flush();
      // Pushes are not bounded by pausing the client: the pubsub class limit applies on every batch.
      if (!this.#closed) this.#checkOutputLimit();
    });
  }

  #writeDeferred(): void {
    const list = this.#deferred!;
    this.#deferred = null;
    for (const bytes of list) this.w.raw(bytes);
  }

  #flush(): void {
    const w = this.w;
    if (w.length === 0 || this.#closed) return;
    // With nothing in flight, the writer's own buffer goes to the socket (no copy, no allocation);
    // the writer moves to a new buffer only when the socket keeps it (an asynchronous write, rare
    // on loopback). Behind a write in flight, a copy waits in the queue instead (a lent 16 KB
    // buffer per small reply would multiply a slow reader's memory).
    const out = this.#out;
    let accepted: boolean;
    if (out.direct) {
      accepted = out.write(w.view());
      w.consumed(out.retained);
    } else accepted = out.write(w.take());
    if (!accepted) {
      this.#backpressure = true;
      this.#socket.pause();
    }
    if (this.#backpressure) this.#checkOutputLimit();
  }

  /**
   * Valkey's client-output-buffer-limit (the `pubsub` class while the client is subscribed, else
   * `normal`) and maxmemory-clients for this one client.
   */
  #checkOutputLimit(): void {
    const limits = this.#server.clientOutputBufferLimit;
    const limit = this.client.pubsub !== null ? limits.pubsub : limits.normal;
    const bytes = this.outputBytes();
    if (limit.hard > 0 && bytes > limit.hard) {
      this.#server.outputBufferLimitDisconnections++;
      this.kill();
      return;
    }
    const cap = this.#server.maxmemoryClients;
    if (cap > 0 && this.memory() > cap) {
      this.#server.evictedClients++;
      this.kill();
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.end();
  }

  #release(): void {
    endTransaction(this.client, this.#ctx.core);
    unblockClient(this.client, this.#ctx.core);
    this.#closed = true;
    this.#deferred = null;
    this.#server.pubsub.removeClient(this.client);
    this.#server.tracking.disable(this.client);
    this.#parser.reset();
    this.w.reset();
    this.#out.release();
  }
}
