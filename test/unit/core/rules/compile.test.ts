/**
 * Rules as specifications: templates, validation messages, per-op actions, fallbacks, dependents.
 */
import { describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../../core/decode/document.ts';
import { ConfigError, RuleError } from '../../../../core/errors.ts';
import type { ChangeEvent } from '../../../../core/event/change-event.ts';
import { opsForEvent } from '../../../../core/plan/planner.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import type { CdcCacheConfig } from '../../../../core/rules/config.ts';
import { evaluateRule } from '../../../../core/rules/evaluate.ts';
import { compileTemplate, renderTemplate } from '../../../../core/rules/template.ts';
import { fixture } from '../../../support/fixtures.ts';

const ev = (over: Partial<ChangeEvent>): ChangeEvent => ({
  source: 'debezium',
  table: 'users',
  namespace: 'public',
  op: 'update',
  key: { id: 7 },
  before: { id: 7, email: 'old@x.io', team_id: 1 },
  after: { id: 7, email: 'new@x.io', team_id: 2, name: 'Ada' },
  version: '100',
  ts: 0,
  ...over,
});

const plan = (config: CdcCacheConfig, event: ChangeEvent) => opsForEvent(compileConfig(config), event).ops;

describe('key templates', () => {
  it('renders fields from key, images and dotted paths with exact digits', () => {
    const t = compileTemplate('org:{key.org}:{address.city}:{before.email}');
    const r = renderTemplate(t, {
      key: { org: 5 },
      before: { email: 'a@b' },
      after: { address: { city: 'Oslo' } },
      current: { address: { city: 'Oslo' } },
    });
    expect(r).toBe('org:5:Oslo:a@b');
    const big = fixture('debezium/postgres-bigint-create.json');
    const [e] = decodeDocument(big);
    expect(
      renderTemplate(compileTemplate('c:{id}'), {
        key: null,
        before: null,
        after: e!.after,
        current: e!.after,
      }),
    ).toBe('c:9007199254740993');
  });

  it('a field named like an Object.prototype member that the row lacks is missing, never a key', () => {
    // Before: `item:{constructor}` rendered `item:function Object() { [native code] }` (a wrong key,
    // silently) and `{toString}` likewise; a row that has the field as a column renders its value.
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      const t = compileTemplate(`item:{${name}}`);
      const row = { id: 1 };
      expect(renderTemplate(t, { key: { id: 1 }, before: null, after: row, current: row })).toMatchObject({
        reason: 'missing',
      });
      expect(
        renderTemplate(compileTemplate(`item:{a.${name}}`), {
          key: null,
          before: null,
          after: { a: {} },
          current: { a: {} },
        }),
      ).toMatchObject({ reason: 'missing' });
      const own = JSON.parse(`{"${name}": 5}`);
      expect(renderTemplate(t, { key: null, before: null, after: own, current: own })).toBe('item:5');
    }
    // keyFields read from the image: a keyless record lacking the field is refused, not keyed.
    const config = { rules: [{ table: 'users', keys: ['user:{constructor}'], keyFields: ['constructor'] }] };
    expect(() => plan(config, ev({ key: null, op: 'create', before: null, after: { id: 1 } }))).toThrow(
      /key field "constructor" is missing/,
    );
  });

  it('rejects malformed templates with the reason', () => {
    expect(() => compileTemplate('user:{id')).toThrow(/unclosed/);
    expect(() => compileTemplate('user:}')).toThrow(/stray/);
    expect(() => compileTemplate('user')).toThrow(/no field reference/);
    expect(() => compileTemplate('user:{}')).toThrow(/empty/);
  });
});

describe('config validation', () => {
  it('names the config path and the fix', () => {
    expect(() => compileConfig({ rules: [] }, 'cfg.json')).toThrow(
      /cfg.json: rules: must be a non-empty list/,
    );
    expect(() => compileConfig({ rules: [{ table: 'users', kyes: ['u:{id}'] }] }, 'cfg.json')).toThrow(
      /rules\[0\]\.kyes: unknown option \(did you mean "keys"\?\)/,
    );
    expect(() => compileConfig({ rules: [{ table: 'users', keys: ['u:{id'] }] })).toThrow(
      /rules\[0\]\.keys\[0\]: template "u:\{id" unclosed/,
    );
    expect(() =>
      compileConfig({ rules: [{ table: 'users', keys: ['u:{id}'], on: { delete: 'refresh' } }] }),
    ).toThrow(/cannot be refreshed/);
    expect(() =>
      compileConfig({ rules: [{ table: 'users', keys: ['u:{id}'], refresh: { ttl: -1 } }] }),
    ).toThrow(/refresh\.ttl: must be a number of seconds/);
    expect(() =>
      compileConfig({ rules: [{ table: 'users', keys: ['u:{id}'], refresh: { jitter: 2 } }] }),
    ).toThrow(/jitter: must be a fraction/);
    expect(() => compileConfig({ rules: [{ table: 'users', keys: ['u:{id}'], action: 'drop' }] })).toThrow(
      ConfigError,
    );
    expect(() =>
      compileConfig(
        { target: 'valky://127.0.0.1:6379', rules: [{ table: 'users', keys: ['u:{id}'] }] },
        'cfg.json',
      ),
    ).toThrow(/^cfg\.json: target: unknown target scheme "valky:\/\/" \(did you mean "valkey"\?\)/);
    expect(
      compileConfig({ target: 'valkeys://c:6379', rules: [{ table: 'users', keys: ['u:{id}'] }] }).target,
    ).toBe('valkeys://c:6379');
  });

  it('refuses a keyFields entry one letter away from a template field (a typo), with the fix', () => {
    // Before: accepted; records with a Kafka key never read keyFields, so nothing ever said so.
    expect(() =>
      compileConfig({ rules: [{ table: 'users', keys: ['user:{id}'], keyFields: ['idd'] }] }, 'cfg.json'),
    ).toThrow(
      /^cfg\.json: rules\[0\]\.keyFields\[0\]: "idd" is read by none of the rule's templates \(did you mean "id"\?\)/,
    );
    expect(() =>
      compileConfig({
        rules: [{ table: 'o', keys: ['o:{tenant_id}:{order_id}'], keyFields: ['tenant_id', 'ordre_id'] }],
      }),
    ).toThrow(/keyFields\[1\]: "ordre_id" .*did you mean "order_id"/);
    // Key columns no template reads, and keyFields the templates read, are fine.
    expect(
      compileConfig({ rules: [{ table: 'o', keys: ['o:{order_id}'], keyFields: ['tenant_id', 'order_id'] }] })
        .rules[0]!.keyFields,
    ).toEqual(['tenant_id', 'order_id']);
  });

  it('warns up front when the images cannot support the rule', () => {
    const c = compileConfig({
      rules: [
        { table: 'a', keys: ['a:{id}'], refresh: {}, images: 'keys' },
        { table: 'b', keys: ['b:{email}'], images: 'new', keyFields: ['id'] },
      ],
    });
    expect(c.warnings.join('\n')).toMatch(/rules\[0\] \(a\): refresh needs the new image/);
    expect(c.warnings.join('\n')).toMatch(/rules\[1\] \(b\): templates read non-key fields \(email\)/);
  });
});

describe('rule evaluation', () => {
  it('refreshes new-image keys and invalidates old-image keys that changed (email changed → old email key goes)', () => {
    const ops = plan(
      {
        rules: [
          {
            table: 'users',
            keys: ['user:{id}', 'user:email:{email}'],
            refresh: { fields: ['id', 'name'], ttl: 60 },
          },
        ],
      },
      ev({}),
    );
    expect(ops).toEqual([
      { kind: 'refresh', key: 'user:7', value: '{"id":7,"name":"Ada"}', ttlMs: 60000, version: '100' },
      {
        kind: 'refresh',
        key: 'user:email:new@x.io',
        value: '{"id":7,"name":"Ada"}',
        ttlMs: 60000,
        version: '100',
      },
      { kind: 'invalidate', key: 'user:email:old@x.io', version: '100' },
    ]);
  });

  it('invalidates on delete from the old image, and per-key actions apply', () => {
    const config: CdcCacheConfig = {
      rules: [
        {
          table: 'users',
          keys: ['user:{id}', { template: 'user:email:{email}', action: 'invalidate' }],
          refresh: {},
        },
      ],
    };
    const del = plan(config, ev({ op: 'delete', after: null }));
    expect(del).toEqual([
      { kind: 'invalidate', key: 'user:7', version: '100' },
      { kind: 'invalidate', key: 'user:email:old@x.io', version: '100' },
    ]);
    // An update without an old image cannot name the old email key: by default a dead letter
    // naming the fix (issue 14: never leave that key stale silently) ...
    expect(() => plan(config, ev({ before: null }))).toThrow(
      /rules\[0\] \(users\): key template "user:email:\{email\}" needs field "email", which the old image of this update does not carry \(the source captured no old image\); fix: .*REPLICA IDENTITY FULL.*, or declare onPartialImage: \{ invalidatePrefix: "user:email:" \}/,
    );
    // ... and with "ignore" declared, only the keys that can be built.
    const ignoring = { rules: [{ ...config.rules[0]!, onPartialImage: 'ignore' as const }] };
    const upd = plan(ignoring, ev({ before: null }));
    expect(upd.map((o) => `${o.kind} ${'key' in o ? o.key : ''}`)).toEqual([
      'refresh user:7',
      'invalidate user:email:new@x.io',
    ]);
  });

  it('refresh falls back to invalidate without a new image or with unavailable projected fields', () => {
    const config: CdcCacheConfig = {
      rules: [{ table: 'users', keys: ['user:{id}'], refresh: { fields: ['id', 'bio'] } }],
    };
    expect(plan(config, ev({ after: null, before: null }))[0]).toEqual({
      kind: 'invalidate',
      key: 'user:7',
      version: '100',
    });
    expect(plan(config, ev({ after: { id: 7 }, unavailable: ['bio'] }))[0]!.kind).toBe('invalidate');
    expect(plan(config, ev({ after: { id: 7, bio: 'x' } }))[0]!.kind).toBe('refresh');
  });

  it('projection functions, prefixes, dependents and filters', () => {
    const config: CdcCacheConfig = {
      keyPrefix: 'app:',
      rules: [
        {
          table: 'public.users',
          prefix: 'v2:',
          keys: ['user:{id}'],
          refresh: { project: (row) => ({ n: row.name }), ttl: 0 },
          dependents: ['team:{team_id}:members'],
          when: { ops: ['update', 'delete'] },
        },
      ],
    };
    const ops = plan(config, ev({}));
    expect(ops).toEqual([
      { kind: 'refresh', key: 'app:v2:user:7', value: '{"n":"Ada"}', ttlMs: 0, version: '100' },
      { kind: 'invalidate', key: 'app:v2:team:2:members', version: '100' },
      { kind: 'invalidate', key: 'app:v2:team:1:members', version: '100' },
    ]);
    expect(plan(config, ev({ op: 'create', before: null }))).toEqual([]);
    expect(plan(config, ev({ namespace: 'other' }))).toEqual([]);
  });

  it('truncate invalidates the declared (or derived) prefixes', () => {
    const derived = plan(
      { rules: [{ table: 'users', keys: ['user:{id}', 'user:email:{email}'] }] },
      ev({ op: 'truncate', key: null, before: null, after: null }),
    );
    expect(derived).toEqual([
      { kind: 'invalidatePrefix', prefix: 'user:', version: '100' },
      { kind: 'invalidatePrefix', prefix: 'user:email:', version: '100' },
    ]);
    const declared = plan(
      {
        rules: [
          { table: 'users', keys: ['user:{id}', 'user:email:{email}'], truncate: { prefixes: ['user:'] } },
        ],
      },
      ev({ op: 'truncate' }),
    );
    expect(declared).toEqual([{ kind: 'invalidatePrefix', prefix: 'user:', version: '100' }]);
  });

  it("a truncate prefix that starts none of the rule's keys is refused at load, naming the path and the closest prefix", () => {
    expect(() =>
      compileConfig(
        { rules: [{ table: 'customers', keys: ['customer:{id}'], truncate: { prefixes: ['custmer:'] } }] },
        'rules.json',
      ),
    ).toThrow(
      /rules\.json: rules\[0\]\.truncate\.prefixes\[0\]: "custmer:" starts none of this rule's keys \("customer:"\) \(did you mean "customer:"\?\), so a TRUNCATE would leave them stale/,
    );
  });

  it('a rule key no declared truncate prefix covers is a load warning', () => {
    const config = compileConfig({
      rules: [{ table: 'users', keys: ['user:{id}', 'profile:{id}'], truncate: { prefixes: ['user:'] } }],
    });
    expect(config.warnings.join('\n')).toMatch(
      /truncate\.prefixes covers no key starting "profile:", so a TRUNCATE leaves those keys stale/,
    );
  });

  it('a template naming a field the image lacks is a RuleError (dead letter), never a guessed key', () => {
    const config = compileConfig({ rules: [{ table: 'users', keys: ['user:email:{email}'] }] });
    const e = ev({ op: 'delete', before: { id: 7 }, after: null });
    try {
      evaluateRule(config.rules[0]!, e);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RuleError);
      expect((err as RuleError).code).toBe('E_TEMPLATE_FIELD');
      expect((err as RuleError).message).toMatch(
        /rules\[0\] \(users\): key template "user:email:\{email\}": field "email" is missing in the before image of this delete/,
      );
    }
  });

  it('keyFields build the key when the record has none; jitter is deterministic and shortens only', () => {
    const config: CdcCacheConfig = {
      rules: [
        { table: 'users', keyFields: ['id'], keys: ['user:{key.id}'], refresh: { ttl: 100, jitter: 0.5 } },
      ],
    };
    const a = plan(config, ev({ key: null }));
    const b = plan(config, ev({ key: null }));
    expect(a).toEqual(b);
    const op = a[0]!;
    expect(op.kind === 'refresh' && op.ttlMs <= 100_000 && op.ttlMs >= 50_000).toBe(true);
    expect(op.kind === 'refresh' && op.key).toBe('user:7');
  });
});

describe('refresh values', () => {
  it('field projections are byte-identical to JSON.stringify, escapes and exact numbers included', () => {
    const [big] = decodeDocument(fixture('debezium/postgres-bigint-create.json'));
    const tricky = {
      id: 7,
      name: 'quote " back \\ tab \t nl \n emoji 😀 lone \ud800',
      n: 1.5,
      neg: -0,
      ok: true,
      nil: null,
      obj: { a: [1, 'x'] },
      big: big!.after!.id!,
    };
    const fields = Object.keys(tricky);
    const ops = plan(
      { rules: [{ table: 'users', keys: ['user:{id}'], refresh: { fields } }] },
      ev({ after: tricky }),
    );
    expect(ops[0]!.kind === 'refresh' && ops[0]!.value).toBe(JSON.stringify(tricky));
    expect(JSON.stringify(tricky)).toContain('"big":9007199254740993');
  });

  it('each character JSON escapes is found on its own, at any position (the escape scan is a loop)', () => {
    const row = {
      id: 8,
      quote: 'a"',
      backslash: '\\z',
      nul: 'x\u0000',
      unit: '\u001f',
      del: 'ok\u007f', // not escaped by JSON
      high: 'x\ud83d',
      low: '\udc00y',
      pair: 'é😀',
      plain: 'user8@example.com',
      empty: '',
    };
    const fields = Object.keys(row);
    const ops = plan(
      { rules: [{ table: 'users', keys: ['user:{id}'], refresh: { fields } }] },
      ev({ after: row }),
    );
    expect(ops[0]!.kind === 'refresh' && ops[0]!.value).toBe(JSON.stringify(row));
    expect(JSON.stringify(row)).toContain('"high":"x\\ud83d"');
  });
});
