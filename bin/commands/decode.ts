/**
 * `cdc-cache decode [FILE|-] [--source auto|dynamodb|debezium|lambda-kafka] [--table NAME]`
 *
 * Reads one JSON document or JSONL and prints one ChangeEvent per line as JSON. Records that are not
 * row changes print nothing. The first bad record stops the command with a one-line error naming
 * the file, the line/record and what is wrong (exit 1).
 */
import { readFile } from 'node:fs/promises';
import { didYouMean } from '../../core/config/did-you-mean.ts';
import {
  type DecodeOptions,
  parseDocument,
  type SourceHint,
  SourceHints,
  splitDocument,
} from '../../core/decode/document.ts';
import { MissingVersionError } from '../../core/decode/missing-version.ts';
import type { ChangeEvent } from '../../core/event/change-event.ts';
import { decodeUtf8 } from '../../core/json/utf8.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';

/** The command line of `decode`: the parser and `decode --help` both read it. */
export const DECODE_COMMAND = {
  usage: `cdc-cache decode [FILE|-] [options]
  Decodes a change record, Lambda event, GetRecords response, Kafka value or JSONL change log
  into ChangeEvents, one JSON object per line.`,
  options: {
    source: {
      type: 'string',
      default: 'auto',
      arg: SourceHints.join('|'),
      help: 'the record format (auto: detected per record)',
    },
    table: { type: 'string', arg: 'NAME', help: 'the table, when the records do not name it' },
  },
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `decode` (generated from {@link DECODE_COMMAND}). */
export const DECODE_USAGE = helpText(DECODE_COMMAND);

async function readInput(file: string): Promise<string> {
  let bytes: Buffer;
  if (file !== '-') {
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new UsageError(`${file}: cannot read: ${(error as Error).message}`);
    }
  } else {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    bytes = Buffer.concat(chunks);
  }
  return decodeUtf8(bytes, file === '-' ? 'stdin' : file); // drops a leading BOM
}

/** The JSON printed for one event (field order fixed, optional flags only when set; `version` null when unknown). */
export function eventToJson(e: Omit<ChangeEvent, 'version'> & { version: string | null }): string {
  const out: Record<string, unknown> = {
    source: e.source,
    table: e.table,
    namespace: e.namespace,
    op: e.op,
    key: e.key,
    before: e.before,
    after: e.after,
    version: e.version,
    ts: e.ts,
  };
  if (e.ttlExpired) out.ttlExpired = true;
  if (e.unavailable) out.unavailable = e.unavailable;
  if (e.raw) out.raw = e.raw;
  if (e.partial) out.partial = e.partial;
  if (e.beforeUnverified) out.beforeUnverified = e.beforeUnverified;
  return JSON.stringify(out);
}

/** One input document; `parsed` is set when detecting JSONL already parsed it. */
interface InputDocument {
  label: string;
  text: string;
  parsed?: unknown;
}

/** Splits input into documents: JSONL when the first line is a complete JSON value and more lines follow. */
function documents(text: string, name: string): InputDocument[] {
  const lines = text.split(/\r?\n/);
  const kept: InputDocument[] = [];
  lines.forEach((l, i) => {
    const t = l.trim();
    if (t !== '' && !t.startsWith('#')) kept.push({ label: `${name}:${i + 1}`, text: t });
  });
  if (kept.length > 1) {
    const first = kept[0]!;
    try {
      first.parsed = parseDocument(first.text, first.label);
      return kept;
    } catch {
      // Not JSONL: one (pretty-printed) document.
    }
  }
  return [{ label: name, text }];
}

/**
 * The `--source` value of decode, replay and verify, checked: an unknown hint is a usage error with a
 * did-you-mean (unchecked, `--source dynamo` decoded as `auto`).
 */
export function sourceHintOption(value: string | undefined): SourceHint {
  const hint = value ?? 'auto';
  if (!(SourceHints as readonly string[]).includes(hint))
    throw new UsageError(
      `--source must be one of ${SourceHints.join(', ')}, got "${hint}"${didYouMean(hint, SourceHints)}`,
    );
  return hint as SourceHint;
}

/** Runs `decode`; returns the exit code. */
export async function runDecode(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(argv, DECODE_COMMAND);
  if (help) {
    await writeOut(DECODE_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('decode takes one FILE (or - for standard input)');
  const file = positionals[0] ?? '-';
  const name = file === '-' ? 'stdin' : file;
  const options: DecodeOptions = { source: sourceHintOption(values.source) };
  if (values.table !== undefined) options.table = values.table;
  const text = await readInput(file);
  if (text.trim() === '') throw new UsageError(`${name}: empty input: expected a JSON document or JSONL`);
  let out = '';
  for (const doc of documents(text, name)) {
    for (const record of splitDocument(
      doc.parsed ?? parseDocument(doc.text, doc.label),
      options,
      doc.label,
    )) {
      let event: ChangeEvent | null;
      try {
        event = record.decode();
      } catch (error) {
        // decode shows what a record means even without a source position; replay and the
        // consumers still dead-letter it (nothing can be fenced without a version).
        if (!(error instanceof MissingVersionError)) throw error;
        process.stderr.write(
          `warning: ${error.position ?? record.label}: the record carries no source position (no version): shown with "version": null; replay and the consumers dead-letter it\n`,
        );
        out += `${eventToJson({ ...error.event, version: null })}\n`;
        continue;
      }
      if (event !== null) out += `${eventToJson(event)}\n`;
    }
    if (out.length > 1 << 16) {
      await writeOut(out);
      out = '';
    }
  }
  await writeOut(out);
  return 0;
}
