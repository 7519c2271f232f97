/**
 * One client connection: reads, parses and runs commands in order, and writes the replies of every
 * command parsed from one socket read with a single `socket.write`.
 *
 * Invariants:
 * - Replies leave in request order. An asynchronous command (write-through hook, CACHE.WAIT) holds
 *   the commands behind it and pauses reading until it settles.
 * - Buffering is bounded: reading pauses while a command is pending or while the socket's outgoing
 *   buffer is over its high-water mark (a client that does not read its replies stops being read);
 *   the parser bounds unparsed input (see resp-parser.ts).
 * - A protocol error writes `-ERR Protocol error: …` and closes the connection, like Valkey.
 */
import type { Socket } from 'node:net';
import type { Engine } from '../engine.ts';
import type { ClientState, CommandContext, CommandSpec, ServerState } from './command-context.ts';
import { dispatch } from './command-table.ts';
import { ReplyWriter } from './reply-writer.ts';
import { ProtocolError, RespParser } from './resp-parser.ts';
import { SocketWriter } from './socket-writer.ts';

/** Serves one socket. */
export class ClientConnection {
  readonly client: ClientState;
  readonly writer = new ReplyWriter();
  readonly #socket: Socket;
  readonly #parser: RespParser;
  readonly #table: Map<string, CommandSpec>;
  readonly #server: ServerState;
  readonly #ctx: { -readonly [K in keyof CommandContext]: CommandContext[K] };
  readonly #out: SocketWriter;
  #pending = false;
  #backpressure = false;
  #closed = false;

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
    this.client = {
      id,
      name: '',
      authenticated: server.requirepass === null,
      addr: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      laddr: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      createdAt: Date.now(),
      lastCommand: 'NULL',
      closeAfterReply: false,
    };
    this.#parser = new RespParser(server.protoMaxBulkLen);
    this.#parser.unauthenticated = !this.client.authenticated;
    this.#ctx = { engine, core: engine.core, w: this.writer, client: this.client, server, now: 0 };
    socket.setNoDelay(true);
    this.#out = new SocketWriter(socket, () => {
      this.#backpressure = false;
      if (!this.#pending && !this.#closed) socket.resume();
    });
    if (!externalReads) socket.on('data', (chunk: Buffer) => this.onRead(chunk, false));
    socket.on('error', () => socket.destroy());
  }

  /** Handles received bytes; a `transient` chunk is reused by the caller after this returns. */
  onRead(chunk: Buffer, transient: boolean): void {
    if (this.#closed) return;
    this.#parser.feed(chunk, transient);
    this.#drain();
    if (transient) this.#parser.detach();
  }

  #drain(): void {
    const parser = this.#parser;
    const ctx = this.#ctx;
    const core = ctx.core;
    parser.maxBulkLen = this.#server.protoMaxBulkLen;
    // One clock reading per socket read: commands parsed from one read share it (as Valkey caches
    // its clock per event-loop iteration); async commands re-read the clock when they resume.
    ctx.now = core.clock.now();
    for (;;) {
      let args: string[] | null;
      try {
        args = parser.next();
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        if (!error.silent) this.writer.error(`ERR ${error.message}`);
        this.#flush();
        this.#close();
        return;
      }
      if (args === null) break;
      this.#server.totalCommands++;
      const pending = dispatch(this.#table, ctx, core, args);
      parser.unauthenticated = !this.client.authenticated;
      if (pending !== undefined) {
        this.#pending = true;
        this.#socket.pause();
        this.#flush();
        void pending.then(() => {
          this.#pending = false;
          if (this.#closed) return;
          if (!this.#backpressure) this.#socket.resume();
          this.#drain();
        });
        return;
      }
      if (this.client.closeAfterReply) {
        this.#flush();
        this.#close();
        return;
      }
    }
    this.#flush();
  }

  #flush(): void {
    if (this.writer.length === 0 || this.#socket.destroyed) return;
    if (!this.#out.write(this.writer.take())) {
      this.#backpressure = true;
      this.#socket.pause();
    }
  }

  #close(): void {
    this.#closed = true;
    this.#socket.end();
    this.#socket.destroySoon();
  }
}
