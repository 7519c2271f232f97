/**
 * The pair the parity tests compare: a private valkey-server (resp-harness.ts `startValkey`) and the
 * engine's RESP server, both on free ports.
 */
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll } from 'vitest';
import { type EngineServer, startEngineServer } from '../../engine/index.ts';
import { startValkey } from './resp-harness.ts';

/** A started valkey-server child. */
export interface OwnValkeyServer {
  port: number;
  stop: () => Promise<void>;
}

/** The running pair; reading it before `beforeAll` ran throws. */
export interface ValkeyAndEngine {
  readonly valkey: OwnValkeyServer;
  readonly engine: EngineServer;
}

/**
 * Starts a valkey-server and an engine server in `beforeAll` and stops both in `afterAll` of the
 * calling file (or `describe`); returns them.
 */
export function withValkeyAndEngine(): ValkeyAndEngine {
  let valkey: OwnValkeyServer | undefined;
  let engine: EngineServer | undefined;
  beforeAll(async () => {
    valkey = await startValkey();
    engine = await startEngineServer({ port: 0 });
  });
  afterAll(async () => {
    await engine?.close();
    await valkey?.stop();
  });
  const started = <T>(what: string, v: T | undefined): T => {
    if (v === undefined) throw new Error(`withValkeyAndEngine: ${what} is read before beforeAll started it`);
    return v;
  };
  return {
    get valkey() {
      return started('valkey', valkey);
    },
    get engine() {
      return started('engine', engine);
    },
  };
}

/** Runs `fn` with an iovalkey client of the server on `port` (no retries), disconnecting after. */
export async function withClient<T>(port: number, fn: (c: Valkey) => Promise<T>): Promise<T> {
  const c = new Valkey({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}
