/** A source record that could not even be located in its event: it decodes to its error (a dead letter). */

import type { SourceRecord } from '../../core/decode/document.ts';
import { DecodeError, ErrorCode } from '../../core/errors.ts';

/** Splits one event record with `split`; a record of the wrong shape becomes a poison SourceRecord. */
export function locateRecord(
  raw: unknown,
  label: string,
  kind: SourceRecord['kind'],
  split: () => SourceRecord | undefined,
): SourceRecord {
  let error: unknown;
  try {
    const r = split();
    if (r !== undefined) return r;
    error = new DecodeError(ErrorCode.BadShape, `${label}: not a change record`, { position: label });
  } catch (e) {
    error = e;
  }
  return {
    kind,
    label,
    raw,
    decode() {
      throw error;
    },
  };
}
