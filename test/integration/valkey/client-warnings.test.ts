/**
 * iovalkey prints some warnings itself with console.warn: a password given to a server whose
 * `default` user needs none produced a raw `[WARN] This Redis server's default user does not require
 * a password, but a password was supplied` line on stderr, outside the consumers' JSON log and the
 * CLI's own lines. Now the target's `onClientError` hook gets it (core/targets/resp/client-console.ts):
 * the consumers log one JSON line `target client warning` with the same text, the CLI one
 * `warning:` line, and nothing raw reaches stderr. Runs against the harness's shared Valkey (no
 * password) and an engine server of its own.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJsonLogger } from '../../../consumers/runtime/logger.ts';
import { clientErrorLogger } from '../../../core/logging/client-errors.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { ROOT, runCli } from '../../support/cli.ts';
import { type EngineProcess, spawnEngine } from '../../support/engine-process.ts';

const WARNED = /does not require a password, but a password was supplied/;

function withPassword(url: string): string {
  return url.replace(/^valkey:\/\//, 'valkey://:not-needed@');
}

let engine: EngineProcess | undefined;

beforeAll(async () => {
  requireServices('valkey');
  engine = await spawnEngine([]);
});

afterAll(async () => {
  await engine?.stop();
});

describe('iovalkey console warnings', () => {
  it.each([
    ['valkey', () => withPassword(serviceEnv('CDC_CACHE_VALKEY_URL'))],
    ['engine-remote', () => `engine://:not-needed@127.0.0.1:${engine!.port}`],
  ])(
    '%s: a password the server does not need is one JSON warn line, not a raw stderr line',
    async (kind, url) => {
      const lines: Record<string, unknown>[] = [];
      const logger = createJsonLogger({ write: (l) => lines.push(JSON.parse(l)) });
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const onClientError = clientErrorLogger(logger);
        const target =
          kind === 'valkey'
            ? await createValkeyTarget({ url: url(), onClientError })
            : createEngineRemoteTarget({ url: url(), onClientError });
        await target.get(`it-warn-${process.pid}`); // the engine-remote client connects on first use
        await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0), { timeout: 10_000 });
        await target.close();
        expect(warn).not.toHaveBeenCalled();
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 'warn', message: 'target client warning' });
        expect((lines[0]!.error as { message: string }).message).toMatch(WARNED);
        // Closed ('end'): the same line reaches console.warn again (no hook left to take it).
        await vi.waitFor(
          () => {
            console.warn('[WARN] Redis server does not require a password, but a password was supplied.');
            expect(warn).toHaveBeenCalled();
          },
          { timeout: 10_000 },
        );
      } finally {
        warn.mockRestore();
      }
    },
  );

  it('replay --target valkey://:PW@… prints one warning line and no raw [WARN]', async () => {
    const rules = JSON.parse(readFileSync(join(ROOT, 'examples', 'cdc-cache.config.json'), 'utf8'));
    rules.keyPrefix = `it-warn-${process.pid}-${Date.now()}:`;
    const config = join(mkdtempSync(join(tmpdir(), 'cdc-warn-')), 'cdc-cache.config.json');
    writeFileSync(config, JSON.stringify(rules));
    const r = await runCli([
      'replay',
      join(ROOT, 'examples', 'changelogs', 'dynamodb.jsonl'),
      '--config',
      config,
      '--target',
      withPassword(serviceEnv('CDC_CACHE_VALKEY_URL')),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('[WARN]');
    expect(r.stderr).toMatch(
      /^warning: target client: iovalkey: This Redis server's `default` user does not require a password, but a password was supplied$/m,
    );
  });
});
