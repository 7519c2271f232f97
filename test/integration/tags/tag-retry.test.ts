/**
 * Tag invalidation on Valkey is at-least-once across a crash (docs/soft-invalidation-and-tags.md):
 * when the pipeline dies after a change moved the tag's members into its pending batch (step 1) and
 * before it removed them (step 2), the redelivered change — fenced by the tag's epoch — still
 * removes what is pending, and leaves alone an entry that joined the tag after the change.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheClient } from '../../../core/client/cache-client.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { versionSortKey } from '../../../core/event/version.ts';
import { tagStateKeys } from '../../../core/targets/valkey/valkey-keys.ts';
import { TAG_BUMP } from '../../../core/targets/valkey/valkey-tag-scripts.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';

describe('tag invalidation survives a crash between its steps (Valkey 3-master cluster)', () => {
  const ns = `tr${process.pid}-${randomBytes(3).toString('hex')}:`;
  let target: ValkeyTarget;

  beforeAll(async () => {
    requireServices('valkey-cluster');
    target = await createValkeyTarget({ url: `valkey://${valkeyServices().clusterNodes.join(',')}` });
  });
  afterAll(async () => {
    await target?.apply([{ kind: 'invalidatePrefix', prefix: ns, version: '9'.repeat(30) }]);
    await target?.close();
  });

  it('the redelivered change removes what the first attempt left pending', async () => {
    const cache = createCacheClient({ store: leaseStoreFor(target) });
    const tag = `${ns}customer:7`;
    const keys = [`${ns}orders:7`, `${ns}invoice:7`, `${ns}tile:7`];
    for (const k of keys) await cache.getOrLoad(k, async () => `v:${k}`, { tags: [tag] });
    // Step 1 of the change at version 50 only, as if the consumer died right after it.
    const state = tagStateKeys(tag);
    const [bump] = await target.run([
      {
        script: TAG_BUMP,
        keys: [state.epoch, state.members, state.queue, state.batch(versionSortKey('50'))],
        args: [versionSortKey('50'), '60000'],
      },
    ]);
    expect(bump?.ok).toBe(true);
    for (const k of keys) expect(await target.get(k)).toBe(JSON.stringify(`v:${k}`));
    expect(await target.client.scard(state.batch(versionSortKey('50')))).toBe(3);
    expect(await target.client.lrange(state.queue, 0, -1)).toEqual([versionSortKey('50')]);
    // An entry loaded after the change joined the tag at epoch 50: the change must not remove it.
    const late = `${ns}late:7`;
    await cache.getOrLoad(late, async () => 'fresh', { tags: [tag] });
    // The checkpoint did not advance: the change is delivered again.
    const [result] = await target.apply([{ kind: 'invalidateTag', tag, version: '50' }]);
    expect(result).toEqual({ ok: true, outcome: 'applied' });
    for (const k of keys) expect(await target.get(k), k).toBeNull();
    expect(await target.get(late)).toBe('"fresh"');
    expect(await target.client.exists(state.batch(versionSortKey('50')), state.queue)).toBe(0);
    // Once done, a third delivery is fenced and changes nothing.
    expect(await target.apply([{ kind: 'invalidateTag', tag, version: '50' }])).toEqual([
      { ok: true, outcome: 'fenced' },
    ]);
    expect(await target.get(late)).toBe('"fresh"');
    await cache.close();
  });
});
