/**
 * Change logs: JSONL files, one source document per line (a raw DynamoDB stream record, a Debezium
 * value with optional key/topic/partition/offset, a Lambda Kafka record, or a whole Lambda event).
 * Blank lines and lines starting with `#` or `//` are skipped. Reading is streaming and lazy; a bad
 * line is reported with its file and line number and does not stop the lines after it.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type DecodeOptions, parseDocument, type SourceRecord, splitDocument } from '../decode/document.ts';
import type { DecodeError } from '../errors.ts';

/** One line of a change log: its records, or the error that made it unreadable. */
export type ChangeLogLine =
  | { file: string; line: number; records: SourceRecord[]; error?: undefined }
  | { file: string; line: number; records?: undefined; error: DecodeError };

/** Reads a change log (a path, or `-` for standard input, or a readable stream) line by line. */
export async function* readChangeLog(
  source: string | Readable,
  options: DecodeOptions = {},
  name = typeof source === 'string' ? source : 'stdin',
): AsyncGenerator<ChangeLogLine> {
  const input =
    typeof source === 'string' ? (source === '-' ? process.stdin : createReadStream(source)) : source;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const text of lines) {
    n++;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) continue;
    const label = `${name}:${n}`;
    try {
      yield { file: name, line: n, records: splitDocument(parseDocument(trimmed, label), options, label) };
    } catch (error) {
      yield { file: name, line: n, error: error as DecodeError };
    }
  }
}
