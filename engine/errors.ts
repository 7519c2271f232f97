/**
 * Engine errors: one class with a stable `code`, so the server can map each to its exact Valkey reply
 * and in-process callers can branch on the code. The engine never imports the rest of the repo, so
 * these are separate from core/errors.ts (the adapters translate).
 */

/** Stable engine error codes. Add new ones; never change the meaning of an existing one. */
export const EngineErrorCode = {
  /** The key holds a value of another type (a hash where a string is needed, or the reverse). */
  WrongType: 'E_ENGINE_WRONGTYPE',
  /** The value is not an integer (or float) or the result overflows. */
  NotANumber: 'E_ENGINE_NOT_A_NUMBER',
  /** A bad argument (TTL out of range, negative size…). */
  BadArgument: 'E_ENGINE_BAD_ARGUMENT',
  /** maxmemory reached and the policy cannot (or may not) free memory. */
  OutOfMemory: 'E_ENGINE_OOM',
  /** A write-through hook failed; the cache kept its old value. */
  HookFailed: 'E_ENGINE_HOOK_FAILED',
  /** A write-through hook did not settle in time; the key was dropped from the cache. */
  HookTimeout: 'E_ENGINE_HOOK_TIMEOUT',
  /** A synchronous write to a key covered by a write-through hook (use `write`/`remove`). */
  HookedKey: 'E_ENGINE_HOOKED_KEY',
  /** The engine was closed. */
  Closed: 'E_ENGINE_CLOSED',
  /** Invalid engine or server options. */
  Config: 'E_ENGINE_CONFIG',
} as const;

/** One of the {@link EngineErrorCode} values. */
export type EngineErrorCodeValue = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** An error raised by the engine on purpose. `retriable` is true only for OOM and hook timeouts. */
export class EngineError extends Error {
  /** Stable machine-readable code. */
  readonly code: EngineErrorCodeValue;
  /** True when the same request may succeed later. */
  readonly retriable: boolean;

  constructor(
    code: EngineErrorCodeValue,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The error a string operation raises on a hash (and vice versa). Message matches Valkey's. */
export function wrongTypeError(): EngineError {
  return new EngineError(
    EngineErrorCode.WrongType,
    'WRONGTYPE Operation against a key holding the wrong kind of value',
  );
}
