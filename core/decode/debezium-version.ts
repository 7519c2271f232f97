/**
 * Versions from Debezium source blocks: the source-native position of a change, totally ordered per
 * key (see core/event/version.ts). Falls back to the Kafka offset when no position is known.
 *
 * - PostgreSQL: `lsn`.
 * - MySQL / MariaDB: binlog file index, `pos`, `row` ("3.154.0"); GTID sequence number when no file.
 * - SQL Server: `commit_lsn`, `change_lsn` (hex parts → integers), `event_serial_no`.
 * - MongoDB: `ts_ms` and `ord` (cluster time).
 * - Oracle, Db2, others: `scn` / `commit_scn` / `lsn` when numeric.
 *
 * A position field that is present but malformed (`"lsn": "abc"`, a non-hex `commit_lsn`) is a
 * DecodeError (a dead letter), never a silent fallback to the Kafka offset: an offset compared
 * against LSNs of the same key would fence the wrong way.
 */
import { DecodeError, ErrorCode } from '../errors.ts';
import { hexToDecimal } from '../event/version.ts';
import type { Obj } from './shape.ts';

/** Fields that, when present and not null, must hold a well-formed position (checkPositionFields). */
const HEX_FIELDS = ['commit_lsn', 'change_lsn'] as const;

function malformed(field: string, value: unknown): DecodeError {
  const shown = JSON.stringify(value) ?? String(value);
  return new DecodeError(
    ErrorCode.BadVersion,
    `field "source.${field}" is ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}, not a source position (${
      HEX_FIELDS.includes(field as never) ? 'hex digits, colon-separated' : 'a non-negative integer'
    }); the record's version cannot be trusted`,
  );
}

/** Throws a DecodeError when a position field is present but malformed. */
/** The position fields of a source block, read by name (a loop over names would be a keyed load per field, per event). */
interface PositionFields {
  lsn?: unknown;
  pos?: unknown;
  ord?: unknown;
  scn?: unknown;
  commit_scn?: unknown;
  event_serial_no?: unknown;
  commit_lsn?: unknown;
  change_lsn?: unknown;
}

function checkInt(field: string, v: unknown): void {
  if (v !== undefined && v !== null && intText(v) === undefined) throw malformed(field, v);
}

function checkHex(field: string, v: unknown): void {
  if (v !== undefined && v !== null && sqlServerLsn(v) === undefined) throw malformed(field, v);
}

/** Throws when one of `lsn`, `pos`, `ord`, `scn`, `commit_scn`, `event_serial_no` or {@link HEX_FIELDS} is present and malformed. */
function checkPositionFields(source: PositionFields): void {
  // PostgreSQL, the common case: a numeric lsn and none of the others.
  const lsn = source.lsn;
  if (!(typeof lsn === 'number' && Number.isInteger(lsn) && lsn >= 0)) checkInt('lsn', lsn);
  checkInt('pos', source.pos);
  checkInt('ord', source.ord);
  checkInt('scn', source.scn);
  checkInt('commit_scn', source.commit_scn);
  checkInt('event_serial_no', source.event_serial_no);
  checkHex('commit_lsn', source.commit_lsn);
  checkHex('change_lsn', source.change_lsn);
}

function intText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  if (typeof v === 'object' && v !== null && typeof (v as { rawJSON?: unknown }).rawJSON === 'string') {
    const raw = (v as { rawJSON: string }).rawJSON;
    return /^\d+$/.test(raw) ? raw : undefined;
  }
  return undefined;
}

function sqlServerLsn(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]+(:[0-9a-fA-F]+)*$/.test(v)) return undefined;
  return hexToDecimal(v.replaceAll(':', ''));
}

function binlogIndex(file: string): string | undefined {
  return /(\d+)$/.exec(file)?.[1];
}

/**
 * Derives the version from a Debezium `source` block, or undefined when it has no position.
 * Throws a DecodeError when a position field is present but malformed.
 */
export function versionFromSource(source: Obj): string | undefined {
  checkPositionFields(source);
  const connector = source.connector;
  if (connector === 'sqlserver' || source.commit_lsn !== undefined) {
    const commit = sqlServerLsn(source.commit_lsn);
    if (commit !== undefined) {
      const change = sqlServerLsn(source.change_lsn) ?? '0';
      return `${commit}.${change}.${intText(source.event_serial_no) ?? '0'}`;
    }
  }
  if (connector === 'mongodb' || source.ord !== undefined) {
    const ts = intText(source.ts_ms);
    const ord = intText(source.ord);
    if (ts !== undefined && ord !== undefined) return `${ts}.${ord}`;
  }
  const lsn = intText(source.lsn);
  if (lsn !== undefined) return lsn;
  if (typeof source.file === 'string' && source.pos !== undefined) {
    const idx = binlogIndex(source.file);
    const pos = intText(source.pos);
    if (idx !== undefined && pos !== undefined) return `${Number(idx)}.${pos}.${intText(source.row) ?? '0'}`;
  }
  if (typeof source.gtid === 'string') {
    const seq = /:(\d+)$/.exec(source.gtid)?.[1];
    if (seq !== undefined) return seq;
  }
  return intText(source.commit_scn) ?? intText(source.scn);
}
