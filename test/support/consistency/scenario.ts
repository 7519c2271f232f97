/**
 * What the consistency test's processes share: the rules (one refresh key and one invalidate key per
 * customer row) and the app loader's projection, which stores the same fields as the refresh rule
 * (so the verifier's `expect` can check app-filled keys too).
 */

/** The fields both the refresh rule and the app's loader store, in this order. */
export const CUSTOMER_FIELDS = ['id', 'email', 'name', 'tier'] as const;

/**
 * The rules of one run: `PREFIXcr:{id}` is refreshed by CDC, `PREFIXca:{id}` only invalidated; an
 * order (public.orders, REPLICA IDENTITY DEFAULT: no old image on update, key-only on delete)
 * invalidates `PREFIXor:{id}` and its customer's order list `PREFIXco:{customer_id}`, a dependent
 * key. The old customer of a moved or deleted order is not in the image: the protected run declares
 * the prefix fallback (issue 14); the unfenced target has no prefix invalidation, so the
 * unprotected run ignores it (one more way to be stale).
 */
export function scenarioRules(prefix: string, protectedRun = true) {
  return {
    keyPrefix: prefix,
    defaults: { ttl: 0 },
    rules: [
      {
        table: 'public.customers',
        source: 'debezium',
        keys: [
          { template: 'cr:{id}', action: 'refresh' },
          { template: 'ca:{id}', action: 'invalidate' },
        ],
        refresh: { fields: [...CUSTOMER_FIELDS] },
      },
      {
        table: 'public.orders',
        source: 'debezium',
        keys: [{ template: 'or:{id}', action: 'invalidate' }],
        dependents: ['co:{customer_id}'],
        onPartialImage: protectedRun ? { invalidatePrefix: 'co:' } : 'ignore',
      },
    ],
  };
}

/** What an app caches under `co:{customer_id}`: the customer's order ids, ascending, as JSON. */
export const CUSTOMER_ORDERS_SQL =
  "SELECT coalesce(json_agg(id ORDER BY id), '[]'::json)::text AS j FROM public.orders WHERE customer_id = $1";

/** The app loader's value for a `row_to_json` customer row: the same bytes the refresh rule writes. */
export function customerProjection(row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const f of CUSTOMER_FIELDS) out[f] = row[f];
  return JSON.stringify(out);
}

/** The fields of the DynamoDB scenario's items (refresh rule and app loader), in this order. */
export const ITEM_FIELDS = ['Id', 'name', 'n'] as const;

/** The rules of a DynamoDB run: `PREFIXcr:{Id}` refreshed, `PREFIXca:{Id}` invalidated. */
export function itemRules(prefix: string, table: string) {
  return {
    keyPrefix: prefix,
    defaults: { ttl: 0 },
    rules: [
      {
        table,
        source: 'dynamodb',
        keys: [
          { template: 'cr:{Id}', action: 'refresh' },
          { template: 'ca:{Id}', action: 'invalidate' },
        ],
        refresh: { fields: [...ITEM_FIELDS] },
      },
    ],
  };
}

/** The app loader's value for a GetItem item ({ Id: N, name: S, n: N }): the refresh rule's bytes. */
export function itemProjection(item: Record<string, { S?: string; N?: string }>): string {
  return JSON.stringify({ Id: Number(item.Id?.N), name: item.name?.S, n: Number(item.n?.N) });
}
