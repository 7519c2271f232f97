import { StreamViewType } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import type { CdcCacheConfig } from '../../../../core/rules/config.ts';
import { imagesCover, streamViewTypeFor } from '../../../../infra/cdk/stream-view-type.ts';

const one = (rule: CdcCacheConfig['rules'][number]): CdcCacheConfig => ({ rules: [rule] });

describe('streamViewTypeFor: the weakest stream view that serves the rules', () => {
  it('invalidating by key attributes only needs KEYS_ONLY', () => {
    expect(streamViewTypeFor(one({ table: 'T', keys: ['t:{id}'] }), 'T', ['id'])).toBe(
      StreamViewType.KEYS_ONLY,
    );
  });

  it('refreshing by key needs NEW_IMAGE', () => {
    expect(streamViewTypeFor(one({ table: 'T', keys: ['t:{id}'], refresh: {} }), 'T', ['id'])).toBe(
      StreamViewType.NEW_IMAGE,
    );
  });

  it('a key built from a non-key attribute needs both images (build on write, invalidate the old one)', () => {
    expect(streamViewTypeFor(one({ table: 'T', keys: ['t:email:{email}'] }), 'T', ['id'])).toBe(
      StreamViewType.NEW_AND_OLD_IMAGES,
    );
  });

  it('{before.x} alone needs OLD_IMAGE; {after.x} alone NEW_IMAGE', () => {
    expect(streamViewTypeFor(one({ table: 'T', keys: ['t:{before.owner}'] }), 'T', ['id'])).toBe(
      StreamViewType.OLD_IMAGE,
    );
    expect(streamViewTypeFor(one({ table: 'T', keys: ['t:{after.owner}'] }), 'T', ['id'])).toBe(
      StreamViewType.NEW_IMAGE,
    );
  });

  it('a when filter on changed fields needs both images; on ops alone, none', () => {
    expect(
      streamViewTypeFor(one({ table: 'T', keys: ['t:{id}'], when: { changed: ['x'] } }), 'T', ['id']),
    ).toBe(StreamViewType.NEW_AND_OLD_IMAGES);
    expect(
      streamViewTypeFor(one({ table: 'T', keys: ['t:{id}'], when: { ops: ['delete'] } }), 'T', ['id']),
    ).toBe(StreamViewType.KEYS_ONLY);
  });

  it("an explicit images setting is a floor, and Debezium-only rules don't count", () => {
    const config: CdcCacheConfig = {
      rules: [
        { table: 'T', keys: ['t:{id}'], images: 'old' },
        { table: 'T', source: 'debezium', keys: ['x:{email}'], refresh: {} },
      ],
    };
    expect(streamViewTypeFor(config, 'T', ['id'])).toBe(StreamViewType.OLD_IMAGE);
  });

  it('a table no rule matches is an error naming the fix', () => {
    expect(() => streamViewTypeFor(one({ table: 'T', keys: ['t:{id}'] }), 'Other', ['id'])).toThrow(
      /no rule matches the DynamoDB table "Other"/,
    );
  });

  it('imagesCover: both covers everything; new does not cover old', () => {
    expect(imagesCover('both', 'old')).toBe(true);
    expect(imagesCover('new', 'old')).toBe(false);
    expect(imagesCover('keys', 'keys')).toBe(true);
  });
});
