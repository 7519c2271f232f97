/**
 * A tag invalidation's page goes to Valkey as one TAG_KEYS call per hash slot in a cluster (keys of
 * one hash tag together, never two slots in a call) and in chunks of TAG_KEYS_PER_SCRIPT on a
 * standalone server; each entry keeps its own fence. Seeded: 600 tagged entries (three hash tags
 * and plain keys in the cluster), every third one already current with a newer change of the tag
 * (its G records it), so the page mixes removed and fenced entries and the reply must be mapped
 * back to the right keys.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { versionSortKey } from '../../../core/event/version.ts';
import { keySlot } from '../../../core/targets/valkey/slots.ts';
import { entryTagsKey, tagStateKeys } from '../../../core/targets/valkey/valkey-keys.ts';
import type { ScriptCall } from '../../../core/targets/valkey/valkey-runner.ts';
import { TAG_KEYS } from '../../../core/targets/valkey/valkey-tag-scripts.ts';
import { invalidateTagOnValkey, TAG_KEYS_PER_SCRIPT } from '../../../core/targets/valkey/valkey-tags.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';

const ENTRIES = 600;
const VERSION = versionSortKey('70');
/** A later change of the tag that some entries already saw. */
const NEWER = versionSortKey('71');

const CASES = [
  {
    name: 'Valkey standalone: chunks of TAG_KEYS_PER_SCRIPT',
    url: () => valkeyServices().standaloneUrl,
    clustered: false,
    key: (ns: string, i: number) => `${ns}e:${i}`,
  },
  {
    name: 'the 3-master Valkey cluster: one call per hash slot',
    url: () => `valkey://${valkeyServices().clusterNodes.join(',')}`,
    clustered: true,
    // Three hash tags (a customer's entries, one slot each) and keys of their own slots.
    key: (ns: string, i: number) => (i % 4 === 3 ? `${ns}e:${i}` : `{${ns}c${i % 4}}:e:${i}`),
  },
];

describe.each(CASES)('$name', ({ url, clustered, key }) => {
  let target: ValkeyTarget | undefined;
  afterAll(async () => {
    await target?.close();
  });

  it('removes every entry not fenced, and answers exactly those keys', async () => {
    requireServices('valkey');
    target = await createValkeyTarget({ url: url() });
    const t = target;
    const ns = `tks${process.pid}-${randomBytes(3).toString('hex')}:`;
    const tag = `${ns}customer:1`;
    const keys = Array.from({ length: ENTRIES }, (_, i) => key(ns, i));
    const fenced = new Set(keys.filter((_, i) => i % 3 === 0));
    for (const k of keys) {
      await t.client.set(k, 'v', 'PX', 600_000);
      if (fenced.has(k)) await t.client.hset(entryTagsKey(k), tag, NEWER);
    }
    await t.client.sadd(tagStateKeys(tag).members, ...keys);
    await t.client.pexpire(tagStateKeys(tag).members, 600_000);

    const calls: ScriptCall[] = [];
    const runner = {
      run: (batch: readonly ScriptCall[]) => {
        calls.push(...batch.filter((c) => c.script === TAG_KEYS));
        return t.run(batch);
      },
    };
    const done = await invalidateTagOnValkey(runner, t.client, tag, VERSION, 60_000, {
      clustered,
    });

    expect(done.outcome).toBe('applied');
    expect(new Set(done.keys)).toEqual(new Set(keys.filter((k) => !fenced.has(k))));
    expect(done.keys.length).toBe(ENTRIES - fenced.size);
    for (const k of keys) expect([k, await t.client.exists(k)]).toEqual([k, fenced.has(k) ? 1 : 0]);
    for (const c of calls) {
      expect(c.keys.length % 5).toBe(0);
      expect(c.keys.length / 5).toBeLessThanOrEqual(TAG_KEYS_PER_SCRIPT);
      if (clustered) expect(new Set(c.keys.map(keySlot)).size).toBe(1);
    }
    const slots = new Set(keys.map(keySlot)).size;
    expect(calls.length).toBe(clustered ? slots : Math.ceil(ENTRIES / TAG_KEYS_PER_SCRIPT));
    // Nothing left pending; a redelivery is fenced and changes nothing.
    expect(await t.client.exists(tagStateKeys(tag).queue, tagStateKeys(tag).members)).toBe(0);
    const again = await invalidateTagOnValkey(t, t.client, tag, VERSION, 60_000, {
      clustered,
    });
    expect(again).toMatchObject({ outcome: 'fenced', keys: [] });
    for (const k of keys) await t.client.del(k, entryTagsKey(k));
  }, 120_000);
});
