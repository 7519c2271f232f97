/**
 * A record that carries no source position (a bare unwrapped Debezium document without `__lsn`, a
 * DynamoDB record without a SequenceNumber or creation time). Replay and the consumers dead-letter it
 * as before (code `E_MISSING_FIELD`): without a version nothing can be fenced. `cdc-cache decode`,
 * which only shows what a record means, prints `event` with `version: null` and a warning instead.
 */
import { DecodeError, ErrorCode } from '../errors.ts';
import type { ChangeEvent } from '../event/change-event.ts';

/** The decoded event, all but its version. */
export type UnversionedEvent = Omit<ChangeEvent, 'version'>;

/** Thrown by the decoders when a record has no version; carries everything else it decoded. */
export class MissingVersionError extends DecodeError {
  /** The event as decoded, without a version. */
  readonly event: UnversionedEvent;

  constructor(message: string, event: UnversionedEvent, options: { position?: string } = {}) {
    super(ErrorCode.MissingField, message, options);
    this.event = event;
  }
}

/**
 * Throws a MissingVersionError when `version` is undefined (the event was built with a placeholder
 * version in its usual field order, so the hot path allocates nothing extra).
 */
export function requireVersion(event: ChangeEvent, version: string | undefined, message: string): void {
  if (version !== undefined) return;
  const { version: _placeholder, ...unversioned } = event;
  throw new MissingVersionError(message, unversioned);
}
