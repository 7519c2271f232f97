/**
 * A misspelt CDC_CACHE_* variable is refused with a did-you-mean (it would be silently ignored
 * otherwise); the list of known names covers every environment schema; unrelated variables pass.
 */
import { describe, expect, it } from 'vitest';
import { consumerEnvSchema } from '../../../../consumers/runtime/consumer-config-schema.ts';
import { CDC_CACHE_ENV_NAMES, checkEnvNames } from '../../../../core/settings/env-names.ts';
import { readSharedSettings, sharedEnvSchema } from '../../../../core/settings/shared-settings.ts';
import { functionEnvSchema } from '../../../../functions/runtime/settings.ts';

describe('environment variable names', () => {
  it('refuses a likely misspelling, naming the variable it resembles', () => {
    expect(() => readSharedSettings({ CDC_CACHE_TARGT: 'valkey://h:1' })).toThrow(
      'environment: CDC_CACHE_TARGT: unknown variable (did you mean "CDC_CACHE_TARGET"?)',
    );
    expect(() => checkEnvNames({ CDC_CACHE_KAFKA_GROUPID: 'orders' })).toThrow(
      /did you mean "CDC_CACHE_KAFKA_GROUP_ID"/,
    );
  });

  it('leaves names far from every known one alone (other tools, the test harness)', () => {
    expect(() =>
      checkEnvNames({ CDC_CACHE_VALKEY_URL: 'x', CDC_CACHE_SERVICES_STATUS: '{}', PATH: '/bin' }),
    ).not.toThrow();
  });

  it('knows every variable the schemas read', () => {
    for (const schema of [sharedEnvSchema, consumerEnvSchema, functionEnvSchema])
      for (const name of Object.keys(schema.entries))
        if (name.startsWith('CDC_CACHE_')) expect(CDC_CACHE_ENV_NAMES.has(name), name).toBe(true);
  });
});
