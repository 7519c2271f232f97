/**
 * Issue 14, item 1: a key is never built from a value the source did not really capture.
 *
 * The PostgreSQL records are a real capture from the harness (Debezium 3.4.3, table public.orders at
 * REPLICA IDENTITY DEFAULT, test/fixtures/captured/debezium-postgres-default-identity.jsonl): the
 * DELETE's old image arrives as `{"id":770003,"customer_id":0,"status":"",…}`, and before this fix
 * the rule below invalidated `customer:0:orders` while the real customer's list stayed stale. MySQL
 * MINIMAL and DynamoDB NEW_IMAGE / KEYS_ONLY records are shaped from upstream docs (fixture READMEs).
 */
import { describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../../core/decode/document.ts';
import { PartialImageError } from '../../../../core/errors.ts';
import type { ChangeEvent } from '../../../../core/event/change-event.ts';
import { parseExactJson } from '../../../../core/json/exact-json.ts';
import { PlanStats } from '../../../../core/plan/plan-stats.ts';
import { planBatch } from '../../../../core/plan/planner.ts';
import { ruleFindings } from '../../../../core/plan/rule-report.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import type { RuleSpec } from '../../../../core/rules/config.ts';
import { opSubject } from '../../../../core/targets/cache-op.ts';
import { fixture, fixtureText } from '../../../support/fixtures.ts';

const captured = fixtureText('captured/debezium-postgres-default-identity.jsonl')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => decodeDocument(parseExactJson(l))[0] ?? null);
const withSchema = captured.slice(0, 4);
const plain = captured.slice(4);
const ORDER = 770003;
const CUSTOMER = 770001;

const ordersRule: RuleSpec = {
  table: 'public.orders',
  keys: ['order:{id}'],
  dependents: ['customer:{customer_id}:orders'],
};
const keysOf = (config: RuleSpec[], events: (ChangeEvent | null)[]) => {
  const plan = planBatch(compileConfig({ rules: config }), events);
  return {
    ops: plan.ops.map((o) =>
      o.kind === 'invalidatePrefix' ? `prefix ${o.prefix}` : `${o.kind} ${opSubject(o)}`,
    ),
    failures: plan.failures.map(
      (f) => `${f.index} [${(f.error as { code?: string }).code}] ${f.error.message}`,
    ),
  };
};

describe('PostgreSQL REPLICA IDENTITY DEFAULT (real capture, with and without schemas)', () => {
  for (const [name, events] of [
    ['with schemas', withSchema],
    ['without schemas', plain],
  ] as const) {
    it(`${name}: the delete's stand-ins are removed and the image is marked partial`, () => {
      const [create, update, del, tombstone] = events;
      expect(create).toMatchObject({ op: 'create', after: { customer_id: CUSTOMER } });
      expect(create!.partial).toBeUndefined();
      expect(update).toMatchObject({
        op: 'update',
        before: null,
        partial: { before: [], cause: 'replica-identity' },
      });
      expect(del).toMatchObject({
        op: 'delete',
        key: { id: ORDER },
        before: { id: ORDER },
        partial: { before: ['id'], cause: 'replica-identity' },
      });
      expect(Object.keys(del!.before!)).toEqual(['id']);
      expect(tombstone).toBeNull();
    });

    it(`${name}: by default the delete is a dead letter naming the fix, never customer:0:orders`, () => {
      const { ops, failures } = keysOf([ordersRule], events);
      expect(ops.some((o) => o.includes('customer:0'))).toBe(false);
      expect(failures).toEqual([
        `1 [E_PARTIAL_IMAGE] rules[0] (public.orders): dependent "customer:{customer_id}:orders" needs field "customer_id", which the old image of this update does not carry (the source captured no old image); fix: ALTER TABLE public.orders REPLICA IDENTITY FULL, or declare onPartialImage: { invalidatePrefix: "customer:" } on the rule`,
        `2 [E_PARTIAL_IMAGE] rules[0] (public.orders): dependent "customer:{customer_id}:orders" needs field "customer_id", which the old image of this delete does not carry (the source captured only id); fix: ALTER TABLE public.orders REPLICA IDENTITY FULL, or declare onPartialImage: { invalidatePrefix: "customer:" } on the rule`,
      ]);
      // The create is planned as usual.
      expect(ops).toEqual([`invalidate order:${ORDER}`, `invalidate customer:${CUSTOMER}:orders`]);
    });

    it(`${name}: with a declared prefix fallback the key columns still build their keys`, () => {
      const stats = new PlanStats(1);
      const config = compileConfig({
        rules: [{ ...ordersRule, onPartialImage: { invalidatePrefix: 'customer:' } }],
      });
      const plan = planBatch(config, [events[2]!], stats);
      expect(plan.failures).toEqual([]);
      expect(plan.ops).toEqual([
        { kind: 'invalidate', key: `order:${ORDER}`, version: events[2]!.version },
        { kind: 'invalidatePrefix', prefix: 'customer:', version: events[2]!.version },
      ]);
      expect(stats.partialImages).toEqual([1]);
      expect(ruleFindings(config, stats).map((f) => f.message)).toEqual([
        'rules[0] (public.orders): 1 event with a partial image invalidated "customer:" instead; e.g. dependent "customer:{customer_id}:orders" needs field "customer_id", which the old image of this delete does not carry (the source captured only id)',
      ]);
    });
  }

  it('the record as it arrived keeps its stand-ins (a dead letter carries it whole)', () => {
    const line = parseExactJson(
      fixtureText('captured/debezium-postgres-default-identity.jsonl').split('\n')[6]!,
    ) as { value: { before: Record<string, unknown> } };
    const [event] = decodeDocument(line);
    expect(event!.before).toEqual({ id: ORDER });
    expect(line.value.before).toMatchObject({ id: ORDER, customer_id: 0, status: '' });
  });

  it('a rule over key columns only is served by the partial image, silently and correctly', () => {
    const { ops, failures } = keysOf([{ table: 'public.orders', keys: ['order:{id}'] }], plain);
    expect(failures).toEqual([]);
    expect(ops).toEqual([`invalidate order:${ORDER}`]);
  });

  it('a JSON filter over a field the old image lacks follows the policy too', () => {
    const rule: RuleSpec = {
      table: 'public.orders',
      keys: ['order:{id}'],
      when: { equals: { status: 'paid' } },
    };
    const plan = planBatch(compileConfig({ rules: [rule] }), [plain[2]!]);
    expect(plan.failures[0]!.error).toBeInstanceOf(PartialImageError);
    expect(plan.failures[0]!.error.message).toMatch(/when\.equals\.status.*REPLICA IDENTITY FULL/);
  });

  it('a full old image (REPLICA IDENTITY FULL customers) is not partial', () => {
    const lines = fixtureText('captured/debezium-postgres-plain.jsonl').split('\n').filter(Boolean);
    const del = lines
      .map((l) => decodeDocument(parseExactJson(l))[0])
      .find((e) => e?.op === 'delete' && e.table === 'customers');
    expect(del!.partial).toBeUndefined();
    expect(del!.before).toMatchObject({ email: 'ada@example.com', tier: 'gold' });
  });

  it('images: "new" declares key-only old images for records that cannot tell (no Kafka key)', () => {
    const { partial: _partial, ...rest } = plain[2]!;
    const noKey: ChangeEvent = { ...rest, key: null, before: { id: ORDER, customer_id: 0 } };
    const declared = keysOf([{ ...ordersRule, keyFields: ['id'], images: 'new' }], [noKey]);
    expect(declared.failures[0]).toMatch(/declares images: "new"/);
    // Without the declaration the record looks whole and the stand-in would be used: the reason to declare.
    expect(keysOf([{ ...ordersRule, keyFields: ['id'] }], [noKey]).ops).toContain(
      'invalidate customer:0:orders',
    );
  });
});

describe('MySQL binlog_row_image=MINIMAL (docs-shaped records)', () => {
  const rule: RuleSpec = {
    table: 'customers',
    keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
    refresh: { fields: ['id', 'first_name', 'email'] },
  };

  it('a delete with a key-only old image dead-letters with the MySQL fix', () => {
    const [del] = decodeDocument(fixture('debezium/mysql-delete-minimal.json'));
    expect(del).toMatchObject({
      before: { id: 1004 },
      partial: { before: ['id'], cause: 'binlog-row-image' },
    });
    const { failures } = keysOf([rule], [del!]);
    expect(failures[0]).toMatch(
      /key template "customer:email:\{email\}" needs field "email".*SET GLOBAL binlog_row_image = 'FULL'/,
    );
  });

  it('an update: the partial new image never refreshes, the old email key follows the policy', () => {
    const [upd] = decodeDocument(fixture('debezium/mysql-update-minimal.json'));
    expect(upd).toMatchObject({
      after: { first_name: 'Sarah' },
      partial: { before: ['id'], after: ['first_name'], cause: 'binlog-row-image' },
    });
    const stats = new PlanStats(1);
    const config = compileConfig({
      rules: [{ ...rule, onPartialImage: { invalidatePrefix: 'customer:email:' } }],
    });
    const plan = planBatch(config, [upd!], stats);
    expect(plan.ops).toEqual([
      { kind: 'invalidate', key: 'customer:1001', version: upd!.version },
      { kind: 'invalidatePrefix', prefix: 'customer:email:', version: upd!.version },
    ]);
    expect(stats.fallbackCount(0, 'partial-image')).toBe(1);
  });
});

describe('DynamoDB stream view types (AWS-docs records)', () => {
  it('KEYS_ONLY MODIFY: a dependent over a non-key attribute dead-letters with the view-type fix', () => {
    const events = decodeDocument(fixture('dynamodb/view-keys-only.json'), { table: 'Forum' });
    const rules: RuleSpec[] = [
      { table: 'Forum', keys: ['thread:{ForumName}:{Subject}'], dependents: ['board:{Category}'] },
    ];
    const { failures } = keysOf(rules, events);
    expect(failures[0]).toMatch(
      /dependent "board:\{Category\}" needs field "Category", which the new image of this update does not carry \(the source captured no new image\); fix: set the stream view type of table Forum to NEW_AND_OLD_IMAGES/,
    );
  });

  it('NEW_IMAGE MODIFY (no old image): the old dependent cannot be named, so the policy applies', () => {
    const record = fixture('dynamodb/view-new-and-old-images.json') as { dynamodb: Record<string, unknown> };
    delete record.dynamodb.OldImage;
    record.dynamodb.StreamViewType = 'NEW_IMAGE';
    const events = decodeDocument(record);
    const rule: RuleSpec = { table: '*', keys: ['item:{Id}'], dependents: ['message:{Message}'] };
    expect(keysOf([rule], events).failures[0]).toMatch(
      /old image of this update does not carry.*NEW_AND_OLD_IMAGES/,
    );
    const ignoring = keysOf([{ ...rule, onPartialImage: 'ignore' }], events);
    expect(ignoring.failures).toEqual([]);
    expect(ignoring.ops).toEqual(['invalidate item:101', 'invalidate message:This item has changed']);
  });
});

describe('onPartialImage is validated like every rule option', () => {
  const load = (onPartialImage: unknown) => () =>
    compileConfig({ rules: [{ ...ordersRule, onPartialImage } as RuleSpec] }, 'cdc-cache.config.json');
  it('names the path, the fix and the closest value', () => {
    expect(load('dead_letter')).toThrow(
      'cdc-cache.config.json: rules[0].onPartialImage: must be "dead-letter", "ignore" or { invalidatePrefix: "customer:" } (did you mean "dead-letter"?)',
    );
    expect(load({ invalidatePrefixes: 'x:' })).toThrow(
      /rules\[0\]\.onPartialImage\.invalidatePrefixes: unknown option \(did you mean "invalidatePrefix"\?\)/,
    );
    expect(load({ invalidatePrefix: '' })).toThrow(/an empty prefix would invalidate every key/);
    expect(load({ invalidatePrefix: ['a:', 'b:'] })).not.toThrow();
  });
});
