/** checkOp: what the planner refuses before any target sees it (issue 14, item 8). */
import { describe, expect, it } from 'vitest';
import { checkOp } from '../../../../core/plan/check-op.ts';

const inv = (key: string, version: string) => ({ kind: 'invalidate' as const, key, version });

describe('checkOp', () => {
  it('accepts ordinary keys and versions up to 99 digits per component', () => {
    expect(() => checkOp(inv('user:1', '24023128'))).not.toThrow();
    expect(() => checkOp(inv('user:1', '3.154.0'))).not.toThrow();
    expect(() => checkOp(inv('user:1', '9'.repeat(99)))).not.toThrow();
    expect(() => checkOp(inv('user:1', `${'0'.repeat(5)}${'9'.repeat(99)}`))).not.toThrow(); // leading zeros do not count
  });

  it.each([
    ['9'.repeat(100), /component longer than 99 digits/],
    [`1.${'9'.repeat(120)}`, /component longer than 99 digits/],
    ['', /is not a version/],
    ['1..2', /is not a version/],
    ['12a', /is not a version/],
    ['1.', /is not a version/],
  ])('refuses version %j with E_BAD_VERSION', (version, message) => {
    expect(() => checkOp(inv('user:1', version))).toThrow(message);
    try {
      checkOp(inv('user:1', version));
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_BAD_VERSION', retriable: false });
    }
  });

  it('checks each op on its own: a version accepted just before does not let a bad one or a reserved key through', () => {
    checkOp(inv('user:1', '77'));
    expect(() => checkOp(inv('user:2', ''))).toThrow(/is not a version/);
    expect(() => checkOp(inv('__cdc:v:user:1', '77'))).toThrow(/reserved prefix/);
    expect(() => checkOp(inv('user:3', '77.'))).toThrow(/is not a version/);
    expect(() => checkOp(inv('user:3', '77'))).not.toThrow();
  });

  it('refuses keys and prefixes in the reserved __cdc: namespace with E_RESERVED_KEY', () => {
    expect(() => checkOp(inv('__cdc:v:{user:1}', '1'))).toThrow(/starts with the reserved prefix __cdc:/);
    expect(() => checkOp({ kind: 'invalidatePrefix', prefix: '__cdc:', version: '1' })).toThrow(
      expect.objectContaining({ code: 'E_RESERVED_KEY' }),
    );
    expect(() => checkOp(inv('app:__cdc:x', '1'))).not.toThrow();
  });
});
