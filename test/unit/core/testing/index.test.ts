/**
 * `cdc-cache/testing` used the way a user's test would: replay a change log into an embedded
 * engine with a virtual clock and assert on the cache.
 */
import { join } from 'node:path';
import { createTestCache } from 'cdc-cache/testing';
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixture } from '../../../support/fixtures.ts';

const EXAMPLES = join(FIXTURES, '..', '..', 'examples');

describe('cdc-cache/testing', () => {
  it('replays change logs into an embedded engine; TTLs follow the virtual clock', async () => {
    const cache = await createTestCache({ config: join(EXAMPLES, 'cdc-cache.config.json') });
    const summary = await cache.replay([
      join(EXAMPLES, 'changelogs/debezium-postgres.jsonl'),
      join(EXAMPLES, 'changelogs/dynamodb.jsonl'),
    ]);
    expect(summary.deadLetters).toBe(0);
    expect(cache.findings()).toEqual([]); // every rule did what it says
    expect(JSON.parse(cache.get('message:101')!)).toEqual({ Id: 101, Message: 'This item has changed' });
    const ttl = cache.ttl('message:101');
    expect(ttl).toBeGreaterThan(540_000); // 600 s with up to 10% jitter
    expect(ttl).toBeLessThanOrEqual(600_000);
    cache.advance(ttl - 1);
    expect(cache.get('message:101')).not.toBeNull();
    cache.advance(2); // Valkey semantics: a key lives through its expiry millisecond
    expect(cache.get('message:101')).toBeNull();
    await cache.close();
  });

  it('findings() says when a rule does nothing (issue 14): a table typo, a refresh field no event has', async () => {
    const cache = await createTestCache({
      config: {
        rules: [
          { table: 'ExampleTableWithStreams', keys: ['msg:{Id}'] },
          { table: 'ExampleTable*', keys: ['m:{Id}'], refresh: { fields: ['Id', 'Mesage'] } },
        ],
      },
    });
    const event = fixture('dynamodb/lambda-event-insert-modify-remove.json') as { Records: unknown[] };
    await cache.apply(event.Records);
    expect(cache.findings().map((f) => f.message)).toEqual([
      'rules[0] (ExampleTableWithStreams) matched none of the 3 change events (check its table, source and when)',
      'rules[1] (ExampleTable*): 2 refreshes fell back to invalidate: field "Mesage" is missing from the new image (check refresh.fields for a typo)',
    ]);
    await cache.close();
  });

  it('applies in-memory events; a late, older duplicate cannot resurrect a deleted row', async () => {
    const cache = await createTestCache({
      config: { rules: [{ table: 'ExampleTableWithStream', keys: ['msg:{Id}'], refresh: { ttl: 0 } }] },
    });
    const event = fixture('dynamodb/lambda-event-insert-modify-remove.json') as { Records: unknown[] };
    const [insert, modify, remove] = event.Records;
    await cache.apply([insert, modify, remove]);
    expect(cache.get('msg:101')).toBeNull();
    await cache.apply([modify]); // redelivered late: older than the tombstone
    expect(cache.get('msg:101')).toBeNull();
    expect(cache.dump()).toEqual({});
    await cache.close();
  });
});
