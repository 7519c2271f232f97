/** Loads fixture files from test/fixtures (real records; origins in each folder's README.md). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExactJson } from '../../core/json/exact-json.ts';

/** Absolute path of the fixtures folder. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Reads a fixture as text. */
export function fixtureText(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

/** Reads and parses a JSON fixture (exactly: big numbers keep their digits). */
export function fixture(path: string): unknown {
  return parseExactJson(fixtureText(path));
}
