/**
 * `bundleWithRules` (infra/cdk/paths.ts, CacheFunction's `rulesFile`): a JSON rules file embedded in
 * a copy of the prebuilt bundle, validated first; the embedded config is what the handler reads when
 * no CDC_CACHE_RULES / CDC_CACHE_CONFIG is set (functions/runtime/environment.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleWithRules } from '../../../../infra/cdk/paths.ts';
import { stubFunctionsDist } from '../../../support/synth-helpers.ts';

const dist = stubFunctionsDist();
const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-rules-'));

function rulesFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('bundleWithRules', () => {
  it('copies the bundle folder with the rules assigned in the entry before any bundled code runs', async () => {
    const rules = { rules: [{ table: 'Orders', keys: ['order:{pk}'] }] };
    const out = bundleWithRules('dynamodb', rulesFile('ok.json', JSON.stringify(rules)), dist);
    const code = readFileSync(join(out, 'dynamodb.mjs'), 'utf8');
    expect(code).toBe(
      `globalThis.__CDC_CACHE_BUNDLED_CONFIG__ = ${JSON.stringify(rules)};\n${readFileSync(join(dist, 'lambda/dynamodb.mjs'), 'utf8')}`,
    );
    // The other entry and the shared chunks are copied unchanged.
    expect(readFileSync(join(out, 'kafka.mjs'), 'utf8')).toBe(
      readFileSync(join(dist, 'lambda/kafka.mjs'), 'utf8'),
    );
    expect(readFileSync(join(out, 'chunks/shared.mjs'), 'utf8')).toBe(
      readFileSync(join(dist, 'lambda/chunks/shared.mjs'), 'utf8'),
    );
    const mod = (await import(pathToFileURL(join(out, 'dynamodb.mjs')).href)) as {
      handler: () => Promise<unknown>;
    };
    expect(await mod.handler()).toEqual({ batchItemFailures: [] });
    expect((globalThis as { __CDC_CACHE_BUNDLED_CONFIG__?: unknown }).__CDC_CACHE_BUNDLED_CONFIG__).toEqual(
      rules,
    );
  });

  it('fails the synth on invalid rules, naming the file and the fix', () => {
    const path = rulesFile(
      'typo.json',
      JSON.stringify({ rules: [{ table: 'Orders', kyes: ['order:{pk}'] }] }),
    );
    expect(() => bundleWithRules('kafka', path, dist)).toThrow(
      /typo\.json: rules\[0\]\.kyes: .*did you mean "keys"/,
    );
  });

  it('fails on a file that is not JSON, naming it', () => {
    const path = rulesFile('bad.json', '{ rules: ');
    expect(() => bundleWithRules('kafka', path, dist)).toThrow(
      /bad\.json: cannot read the rules \(a JSON file\)/,
    );
  });
});
