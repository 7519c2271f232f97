import { describe, expect, it } from 'vitest';
import { openTarget, redactTarget } from '../../../bin/targets.ts';

describe('redactTarget', () => {
  it('hides passwords in target URLs and leaves the rest readable', () => {
    expect(redactTarget('valkeys://cdc:s3cret@cache.example.com:6379')).toBe(
      'valkeys://cdc:***@cache.example.com:6379',
    );
    expect(redactTarget('valkey://tokenonly@127.0.0.1:16379/0')).toBe('valkey://***@127.0.0.1:16379/0');
    expect(redactTarget('valkey://127.0.0.1:16379')).toBe('valkey://127.0.0.1:16379');
    expect(redactTarget('engine')).toBe('engine');
    // An unescaped "@" in the password: nothing of it is left (the host follows the last "@").
    expect(redactTarget('valkey://app:s3cret@PW@h:1')).toBe('valkey://app:***@h:1');
  });
});

describe('openTarget', () => {
  it('refuses engine:// URL parameters and databases it would drop (engine://h:p?clustr=true, /3)', async () => {
    await expect(openTarget('engine://127.0.0.1:6380?clustr=true')).rejects.toThrow(
      '--target=engine://127.0.0.1:6380?clustr=true: engine targets take no URL parameters (got "clustr=true")',
    );
    await expect(openTarget('engine://admin:pw@127.0.0.1:6380/3')).rejects.toThrow(
      '--target=engine://admin:***@127.0.0.1:6380/3: engine targets have one keyspace, not database "3"',
    );
    await expect(openTarget('engines://a:1,b:2')).rejects.toThrow('an engine target is one server');
  });
});
