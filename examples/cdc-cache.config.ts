/**
 * The example rules as a TypeScript config: the same as cdc-cache.config.json, plus what only code
 * can say (a projection function and a filter). Node 22.18+ loads it natively:
 *   npx cdc-cache replay examples/changelogs/*.jsonl --config examples/cdc-cache.config.ts --dump
 * From the installed package, copy it into your project first (Node runs no TypeScript under
 * node_modules), as cdc-cache.config.mts if your package.json says "type": "commonjs".
 */
import { defineConfig } from 'cdc-cache';

export default defineConfig({
  defaults: { ttl: 3600, jitter: 0.1 },
  rules: [
    {
      table: 'public.customers',
      source: 'debezium',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: {
        // The cached shape the application reads: a display name instead of the two name columns.
        project: (row) => ({ id: row.id, name: `${row.first_name} ${row.last_name}`, email: row.email }),
      },
      // Old images are full (ALTER TABLE public.customers REPLICA IDENTITY FULL): the change log
      // carries no schema, so the rule says so for the old email key to be invalidated.
      images: 'both',
    },
    {
      table: 'ExampleTableWithStream',
      source: 'dynamodb',
      keys: ['message:{Id}'],
      refresh: { fields: ['Id', 'Message'], ttl: 600 },
      // Items removed by TTL expiry are gone from the cache already (same TTL): no need to act.
      when: (event) => event.ttlExpired !== true,
    },
  ],
});
