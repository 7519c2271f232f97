/**
 * Change logs: JSONL files, one source document per line (a raw DynamoDB stream record, a Debezium
 * value with optional key/topic/partition/offset, a Lambda Kafka record, or a whole Lambda event).
 * Blank lines and lines starting with `#` or `//` are skipped. Reading is streaming and lazy; a bad
 * line is reported with its file and line number and does not stop the lines after it. Lines are
 * split as bytes and decoded strictly: a line that is not valid UTF-8 is a bad line (never stored
 * with replacement characters), and a leading byte-order mark is dropped.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { type DecodeOptions, parseDocument, type SourceRecord, splitDocument } from '../decode/document.ts';
import type { DecodeError } from '../errors.ts';
import { decodeUtf8 } from '../json/utf8.ts';

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
  let n = 0;
  for await (const bytes of byteLines(input)) {
    n++;
    const label = `${name}:${n}`;
    let text: string;
    try {
      text = decodeUtf8(bytes, `line ${n}`);
    } catch (error) {
      const e = error as DecodeError;
      e.message = `${label}: ${e.message}`;
      yield { file: name, line: n, error: e };
      continue;
    }
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) continue;
    try {
      yield { file: name, line: n, records: splitDocument(parseDocument(trimmed, label), options, label) };
    } catch (error) {
      yield { file: name, line: n, error: error as DecodeError };
    }
  }
}

/** The input's lines as bytes (without the `\n`; a `\r` before it is whitespace to the caller). */
async function* byteLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
      const piece = buf.subarray(start, nl);
      if (parts.length === 0) yield piece;
      else {
        parts.push(piece);
        yield Buffer.concat(parts);
        parts = [];
      }
      start = nl + 1;
    }
    if (start < buf.length) parts.push(buf.subarray(start));
  }
  if (parts.length > 0) yield Buffer.concat(parts);
}
