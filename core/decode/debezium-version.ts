/**
 * Versions from Debezium source blocks: the source-native position of a change, totally ordered per
 * key (see core/event/version.ts). Falls back to the Kafka offset when no position is known.
 *
 * - PostgreSQL: `lsn`.
 * - MySQL / MariaDB: binlog file index, `pos`, `row` ("3.154.0"); GTID sequence number when no file.
 * - SQL Server: `commit_lsn`, `change_lsn` (hex parts → integers), `event_serial_no`.
 * - MongoDB: `ts_ms` and `ord` (cluster time).
 * - Oracle, Db2, others: `scn` / `commit_scn` / `lsn` when numeric.
 */
import { hexToDecimal } from '../event/version.ts';
import type { Obj } from './shape.ts';

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

/** Derives the version from a Debezium `source` block, or undefined when it has no usable position. */
export function versionFromSource(source: Obj): string | undefined {
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
