/**
 * A message the server pushes to clients outside a command's reply (a Pub/Sub message, a tracking
 * invalidation). Encoded once per protocol version, however many clients receive it, so a PUBLISH
 * to ten thousand subscribers encodes the message twice at most.
 */
import { ReplyWriter } from './reply-writer.ts';

/** A push, built lazily per RESP version by `build`. */
export class PushMessage {
  readonly #build: (w: ReplyWriter) => void;
  #resp2: Buffer | null = null;
  #resp3: Buffer | null = null;

  /** `build` writes the message with the writer's `resp` already set (use `w.push(n)` for the header). */
  constructor(build: (w: ReplyWriter) => void) {
    this.#build = build;
  }

  /** The encoded bytes for a client speaking `resp`. */
  bytes(resp: 2 | 3): Buffer {
    if (resp === 3) {
      this.#resp3 ??= this.#encode(3);
      return this.#resp3;
    }
    this.#resp2 ??= this.#encode(2);
    return this.#resp2;
  }

  #encode(resp: 2 | 3): Buffer {
    scratch.resp = resp;
    this.#build(scratch);
    return scratch.take();
  }
}

/** One writer reused for every encoding (builds never nest; `take` copies out). */
const scratch = new ReplyWriter();
