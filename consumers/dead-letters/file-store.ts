/**
 * The file sink as a dead-letter store: one JSON line per dead letter, as written by the consumers'
 * `--dead-letter-file` (consumers/runtime/dead-letter-sink.ts) and the Lambda handlers'
 * `CDC_CACHE_DEAD_LETTER=/path` (functions/runtime/dead-letter.ts). Ids are `FILE:LINE`.
 *
 * `settle` rewrites the file without the lines that were done, atomically (a temporary file beside
 * it, then rename). Lines appended by a running sink after the read are kept: the file is read
 * again just before the rename and everything past what was read is carried over. A sink that
 * appends between that last read and the rename (microseconds) could still lose its line, so
 * redrive a file whose writer is stopped or has moved to a new file. A last line caught half
 * written (no newline, not JSON yet) is left for the next read and carried over whole.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  type DeadLetterStore,
  DeadLetterStoreError,
  parseDeadLetterBody,
  type ReadOptions,
  type StoredDeadLetter,
} from './dead-letter-store.ts';

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Opens the file dead-letter store at `path`. */
export function fileDeadLetterStore(path: string): DeadLetterStore {
  const name = basename(path);
  let readBytes = 0;
  let lines: string[] = [];
  const idOf = (line: number) => `${name}:${line}`;

  async function load(): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      const why =
        (error as { code?: string }).code === 'ENOENT'
          ? 'no such file (the sink creates it with the first dead letter: check the path)'
          : (error as Error).message;
      throw new DeadLetterStoreError(`${path}: cannot read the dead-letter file: ${why}`, { cause: error });
    }
  }

  return {
    kind: 'file',
    name: path,
    async read(options: ReadOptions = {}): Promise<StoredDeadLetter[]> {
      let text = await load();
      // A last line without its newline that is not JSON yet is one the sink is still writing:
      // not read now, so settle carries it over whole with the tail instead of splitting it.
      const cut = text.lastIndexOf('\n') + 1;
      if (cut < text.length && !isJson(text.slice(cut))) text = text.slice(0, cut);
      readBytes = Buffer.byteLength(text);
      lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      const max = options.max ?? 1000;
      const out: StoredDeadLetter[] = [];
      for (let i = 0; i < lines.length && out.length < max; i++) {
        const line = lines[i]!;
        if (line.trim() === '') continue;
        let body: unknown;
        try {
          body = JSON.parse(line);
        } catch (error) {
          out.push({
            id: idOf(i + 1),
            position: idOf(i + 1),
            code: 'E_BAD_JSON',
            reason: `the line is not JSON: ${(error as Error).message}`,
            failedAt: undefined,
            payload: { kind: 'unreadable', problem: `line ${i + 1} is not JSON (fix or delete it by hand)` },
            stored: line,
          });
          continue;
        }
        out.push(parseDeadLetterBody(idOf(i + 1), body));
      }
      return out;
    },
    async settle(done: ReadonlySet<string>): Promise<number> {
      if (done.size === 0) return 0;
      const now = Buffer.from(await load(), 'utf8');
      if (now.length < readBytes)
        throw new DeadLetterStoreError(`${path}: the file shrank since it was read; not rewriting it`);
      const tail = now.subarray(readBytes).toString('utf8');
      const keep = lines.filter((_, i) => !done.has(idOf(i + 1)));
      const removed = lines.length - keep.length;
      const tmp = `${path}.redrive-${process.pid}.tmp`;
      await writeFile(tmp, `${keep.map((l) => `${l}\n`).join('')}${tail}`);
      await rename(tmp, path);
      return removed;
    },
    async close() {},
  };
}
