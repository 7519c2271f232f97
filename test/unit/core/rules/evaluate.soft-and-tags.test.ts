/**
 * Rules for soft invalidation and tags (docs/soft-invalidation-and-tags.md): the `soft-invalidate`
 * action, `tags` templates, what the planner makes of them, and the config errors for bad ones.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, RuleError } from '../../../../core/errors.ts';
import type { ChangeEvent } from '../../../../core/event/change-event.ts';
import { opsForEvent, planBatch } from '../../../../core/plan/planner.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import type { CdcCacheConfig } from '../../../../core/rules/config.ts';
import { loadConfig } from '../../../../core/rules/load.ts';

const ev = (over: Partial<ChangeEvent>): ChangeEvent => ({
  source: 'debezium',
  table: 'orders',
  namespace: 'public',
  op: 'update',
  key: { id: 7 },
  before: { id: 7, customer_id: 1, status: 'new' },
  after: { id: 7, customer_id: 2, status: 'paid' },
  version: '100',
  ts: 0,
  ...over,
});

const plan = (config: CdcCacheConfig, event: ChangeEvent) => opsForEvent(compileConfig(config), event).ops;

describe('soft-invalidate action', () => {
  it('marks new-image keys stale; a key only the old image names, and every key of a delete, is invalidated', () => {
    const config: CdcCacheConfig = {
      rules: [{ table: 'orders', keys: ['order:{id}', 'status:{status}:{id}'], action: 'soft-invalidate' }],
    };
    expect(plan(config, ev({}))).toEqual([
      { kind: 'softInvalidate', key: 'order:7', version: '100' },
      { kind: 'softInvalidate', key: 'status:paid:7', version: '100' },
      { kind: 'invalidate', key: 'status:new:7', version: '100' },
    ]);
    expect(plan(config, ev({ op: 'delete', after: null }))).toEqual([
      { kind: 'invalidate', key: 'order:7', version: '100' },
      { kind: 'invalidate', key: 'status:new:7', version: '100' },
    ]);
  });

  it('works per key and per operation beside refresh', () => {
    const config: CdcCacheConfig = {
      rules: [
        {
          table: 'orders',
          keys: ['order:{id}', { template: 'order-page:{id}', action: 'soft-invalidate' }],
          refresh: { fields: ['id', 'status'] },
          on: { create: 'refresh' },
        },
      ],
    };
    expect(plan(config, ev({})).map((o) => o.kind)).toEqual(['refresh', 'softInvalidate']);
    const onUpdate: CdcCacheConfig = { rules: [{ ...config.rules[0]!, on: { update: 'soft-invalidate' } }] };
    expect(plan(onUpdate, ev({})).map((o) => o.kind)).toEqual(['softInvalidate', 'softInvalidate']);
  });

  it('is refused on delete and truncate, with the fix', () => {
    expect(() =>
      compileConfig(
        { rules: [{ table: 'orders', keys: ['o:{id}'], on: { delete: 'soft-invalidate' } }] },
        'cfg.json',
      ),
    ).toThrow(
      'cfg.json: rules[0].on.delete: a deleted row cannot be served stale: use "invalidate" or "ignore"',
    );
    expect(() =>
      compileConfig(
        { rules: [{ table: 'orders', keys: ['o:{id}'], on: { truncate: 'soft-invalidate' } }] },
        'cfg.json',
      ),
    ).toThrow(
      'cfg.json: rules[0].on.truncate: a truncate cannot soft-invalidate: use "invalidate" or "ignore"',
    );
  });

  it('at equal versions the planner keeps the stronger op: invalidate > soft-invalidate > refresh', () => {
    const config = compileConfig({
      rules: [
        { table: 'orders', keys: ['order:{id}'], refresh: {} },
        { table: 'orders', keys: ['order:{id}'], action: 'soft-invalidate' },
      ],
    });
    expect(planBatch(config, [ev({})]).ops).toEqual([
      { kind: 'softInvalidate', key: 'order:7', version: '100' },
    ]);
  });
});

describe('tags', () => {
  const config: CdcCacheConfig = {
    keyPrefix: 'app:',
    rules: [
      { table: 'orders', keys: ['order:{id}'], tags: ['customer:{customer_id}', 'all-orders:{key.id}'] },
    ],
  };

  it('names tags from both images, with the prefixes, once each', () => {
    expect(plan(config, ev({}))).toEqual([
      { kind: 'invalidate', key: 'app:order:7', version: '100' },
      { kind: 'invalidateTag', tag: 'app:customer:2', version: '100' },
      { kind: 'invalidateTag', tag: 'app:customer:1', version: '100' },
      { kind: 'invalidateTag', tag: 'app:all-orders:7', version: '100' },
    ]);
    expect(
      plan(config, ev({ op: 'create', before: null })).filter((o) => o.kind === 'invalidateTag'),
    ).toEqual([
      { kind: 'invalidateTag', tag: 'app:customer:2', version: '100' },
      { kind: 'invalidateTag', tag: 'app:all-orders:7', version: '100' },
    ]);
  });

  it("a soft-invalidate rule's tags are soft too, except on delete", () => {
    const config: CdcCacheConfig = {
      rules: [
        {
          table: 'orders',
          keys: ['order:{id}'],
          tags: ['customer:{customer_id}'],
          action: 'soft-invalidate',
        },
      ],
    };
    expect(plan(config, ev({})).filter((o) => o.kind === 'invalidateTag')).toEqual([
      { kind: 'invalidateTag', tag: 'customer:2', version: '100', soft: true },
      { kind: 'invalidateTag', tag: 'customer:1', version: '100', soft: true },
    ]);
    expect(plan(config, ev({ op: 'delete', after: null })).filter((o) => o.kind === 'invalidateTag')).toEqual(
      [{ kind: 'invalidateTag', tag: 'customer:1', version: '100' }],
    );
  });

  it('a placeholder that does not resolve makes the record a dead letter, never a tag from a guess', () => {
    const compiled = compileConfig(config);
    const bad = ev({ op: 'create', before: null, after: { id: 7, status: 'new' } });
    expect(() => opsForEvent(compiled, bad)).toThrow(RuleError);
    const p = planBatch(compiled, [bad]);
    expect(p.ops).toEqual([]);
    expect(p.failures[0]!.error.message).toBe(
      'rules[0] (orders): tag template "customer:{customer_id}": field "customer_id" is missing in the after image of this create (the after image has id, status: fix the template, or if the field exists, capture the needed image — NEW_AND_OLD_IMAGES / REPLICA IDENTITY FULL — or set keyFields)',
    );
  });

  it('coalesces one op per tag per batch (the newest), apart from a key of the same name', () => {
    const compiled = compileConfig({
      rules: [{ table: 'orders', keys: ['customer:{customer_id}'], tags: ['customer:{customer_id}'] }],
    });
    const p = planBatch(compiled, [
      ev({ op: 'create', before: null, version: '5' }),
      ev({ op: 'create', before: null, version: '9' }),
    ]);
    expect(p.ops).toEqual([
      { kind: 'invalidate', key: 'customer:2', version: '9' },
      { kind: 'invalidateTag', tag: 'customer:2', version: '9' },
    ]);
    expect(p.recordOps).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it.each([
    [
      ['customer:{customer_id'],
      'rules[0].tags[0]: template "customer:{customer_id" unclosed "{" at position 9: write fields as {name}',
    ],
    [['ok:{id}', 'customer:}'], 'rules[0].tags[1]: template "customer:}" stray "}" at position 9'],
    [
      ['customer'],
      'rules[0].tags[0]: template "customer" has no field reference: a key template needs at least one {field}',
    ],
    [[42], 'rules[0].tags[0]: must be a template string such as "user:{id}"'],
    ['customer:{id}', 'rules[0].tags: must be a list of tag templates such as "customer:{customer_id}"'],
  ])('a bad tag template %j is one line naming the file, the path and the fix', (tags, message) => {
    const bad = { rules: [{ table: 'orders', keys: ['order:{id}'], tags }] };
    let error: unknown;
    try {
      compileConfig(bad, 'cdc-cache.config.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`cdc-cache.config.json: ${message}`);
    expect((error as ConfigError).message).not.toContain('\n');
    expect((error as ConfigError).code).toBe('E_CONFIG_VALUE');
  });

  it('loading a config file names that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tags-'));
    const file = join(dir, 'cdc-cache.config.json');
    writeFileSync(file, JSON.stringify({ rules: [{ table: 'orders', keys: ['o:{id}'], tags: ['c:{cid'] }] }));
    await expect(loadConfig(file)).rejects.toThrow(
      `${file}: rules[0].tags[0]: template "c:{cid" unclosed "{" at position 2: write fields as {name}`,
    );
  });
});
