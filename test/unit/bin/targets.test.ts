import { describe, expect, it } from 'vitest';
import { redactTarget } from '../../../bin/targets.ts';

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
