import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError, UsageError } from '../../../bin/cli-error.ts';
import { CdcCacheError, ErrorCode } from '../../../core/errors.ts';

function captureStderr(): { lines: () => string } {
  let out = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  return { lines: () => out };
}

describe('reportError', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env.CDC_CACHE_DEBUG;
  });

  it('prints one line with the verb and exits 1 for failed work', () => {
    const err = captureStderr();
    const code = reportError(
      'consume',
      new CdcCacheError(ErrorCode.ConfigValue, 'rules.json: rules[0]: bad\nsecond line'),
    );
    expect(code).toBe(1);
    expect(err.lines()).toBe('cdc-cache consume: rules.json: rules[0]: bad\n');
  });

  it("exits 2 and points at the verb's own --help for usage errors (cdc-cache help for an unknown verb)", () => {
    const err = captureStderr();
    expect(reportError('replay', new UsageError('missing --rules'))).toBe(2);
    expect(err.lines()).toContain('Run "cdc-cache replay --help" for its options.');
    expect(reportError('replya', new UsageError('unknown command "replya"'))).toBe(2);
    expect(err.lines()).toContain('Run "cdc-cache help" for usage.');
  });

  it('never prints a password from a connection URL or a password= pair', () => {
    const err = captureStderr();
    reportError(
      'consume',
      new Error('connect valkey://app:hunter2@cache.internal:6379 failed; password=s3cret'),
    );
    expect(err.lines()).not.toContain('hunter2');
    expect(err.lines()).not.toContain('s3cret');
    expect(err.lines()).toContain('valkey://app:***@cache.internal:6379');
  });

  it('redacts the stack printed with CDC_CACHE_DEBUG', () => {
    const err = captureStderr();
    process.env.CDC_CACHE_DEBUG = '1';
    reportError('consume', new Error('dial redis://u:topsecret@h:1'));
    expect(err.lines()).toContain('Error: dial redis://u:***@h:1');
    expect(err.lines()).not.toContain('topsecret');
  });
});
