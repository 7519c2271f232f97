/**
 * The deployment config is refused at synth, in one line naming the file, the path and the fix:
 * a typo (with did-you-mean), a wrong type, a missing required key; its `rules` path resolves
 * against the deploy file's folder, not the working directory.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../core/errors.ts';
import { loadDeployConfig } from '../../../../infra/cdk/deploy-config.ts';

const RULES = { rules: [{ table: 'Orders', source: 'dynamodb', keys: ['order:{pk}'] }] };

function deployFile(body: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-deploy-'));
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf', 'rules.json'), JSON.stringify(RULES));
  const file = join(dir, 'conf', 'cdc-cache.deploy.json');
  writeFileSync(file, JSON.stringify(body));
  return file;
}

function refusal(body: unknown): { file: string; error: ConfigError } {
  const file = deployFile(body);
  try {
    loadDeployConfig(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('\n');
    return { file, error: error as ConfigError };
  }
  throw new Error('expected a ConfigError');
}

const TABLES = { tables: [{ name: 'Orders', create: { partitionKey: 'pk' } }] };

describe('deployment config', () => {
  it('loads a valid file; rules resolve against the deploy file, not the working directory', () => {
    const loaded = loadDeployConfig(deployFile({ rules: 'rules.json', dynamodb: TABLES }));
    expect(loaded.rules).toEqual(RULES);
    expect(loaded.config.dynamodb?.tables[0]?.name).toBe('Orders');
  });

  it('refuses a typo with a did-you-mean', () => {
    const { file, error } = refusal({ rules: 'rules.json', dynamodb: { ...TABLES, batchsize: 10 } });
    expect(error.message).toMatch(
      new RegExp(
        `^${file.replaceAll('.', '\\.')}: dynamodb\\.batchsize: unknown option \\(did you mean "batchSize"\\?\\)`,
      ),
    );
    expect(error.code).toBe('E_CONFIG_UNKNOWN_OPTION');
  });

  it('refuses a wrong type, naming the path and what is expected', () => {
    const { file, error } = refusal({ rules: 'rules.json', kafka: { topics: 'a.b.c', msk: {} } });
    expect(error.message).toBe(`${file}: kafka.topics: must be a list of topic names, got "a.b.c"`);
    expect(error.code).toBe('E_CONFIG_TYPE');
  });

  it('refuses a missing required key', () => {
    const { file, error } = refusal({ dynamodb: TABLES });
    expect(error.message).toBe(`${file}: rules: missing required option`);
    expect(error.code).toBe('E_CONFIG_MISSING');
  });

  it('keeps the cross-field checks, with the same error shape', () => {
    const { file, error } = refusal({ rules: 'rules.json' });
    expect(error.message).toBe(`${file}: dynamodb / kafka: give at least one source`);
    expect(error.code).toBe('E_CONFIG_VALUE');
  });
});
