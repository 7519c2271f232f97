/**
 * The shape of a JSON rules config as a schema, on the project's one schema library. The rules
 * compiler (compile.ts) stays the validator — its checks are semantic (templates, images, action
 * combinations) and it also takes TypeScript configs with functions — so this schema is the
 * source of `schemas/cdc-cache.config.schema.json` for editors, and tests check that it and the
 * compiler agree on the examples. Keep both in step when an option is added.
 */
import * as v from 'valibot';
import { targetSpec } from '../config/target-spec.ts';
import { Ops, Sources } from '../event/change-event.ts';
import { Actions, ImageModes } from './config.ts';

const opt = v.exactOptional;
const action = v.pipe(
  v.picklist(Actions),
  v.description(
    'invalidate, refresh, soft-invalidate (mark stale: served by stale-while-revalidate clients while one reloads) or ignore',
  ),
);
const fields = v.pipe(v.array(v.string()), v.minLength(1));
const seconds = v.pipe(v.number(), v.minValue(0));
const fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(0.999999));

const ruleSchema = v.strictObject({
  table: v.pipe(
    v.string(),
    v.minLength(1),
    v.description('Table: `users`, `public.users`, or a glob (`inventory.*`).'),
  ),
  source: opt(v.picklist(Sources)),
  keyFields: opt(fields),
  keys: v.pipe(
    v.array(
      v.union([
        v.pipe(v.string(), v.description('Key template such as `user:{id}`.')),
        v.strictObject({ template: v.string(), action: opt(action) }),
      ]),
    ),
    v.minLength(1),
    v.description('Key templates (at least one).'),
  ),
  prefix: opt(v.string()),
  action: opt(action),
  on: opt(
    v.strictObject({
      create: opt(action),
      update: opt(action),
      read: opt(action),
      delete: opt(action),
      truncate: opt(action),
    }),
  ),
  refresh: opt(
    v.strictObject({
      fields: opt(fields),
      ttl: opt(v.pipe(seconds, v.description('Time to live in seconds (0 = no expiry).'))),
      jitter: opt(fraction),
    }),
  ),
  dependents: opt(v.array(v.string())),
  tags: opt(
    v.pipe(
      v.array(v.string()),
      v.description(
        'Tag templates such as `customer:{customer_id}`: every change invalidates every entry the app cached with one of these tags (getOrLoad/writeThrough `tags`).',
      ),
    ),
  ),
  when: opt(
    v.strictObject({
      ops: opt(v.array(v.picklist(Ops))),
      changed: opt(v.array(v.string())),
      equals: opt(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()]))),
    }),
  ),
  truncate: opt(v.strictObject({ prefixes: opt(v.array(v.string())) })),
  images: opt(
    v.pipe(
      v.picklist(ImageModes),
      v.description(
        'What the source captures: keys, new, old or both. Written out, "both" (or "old") declares the table\'s old images full (REPLICA IDENTITY FULL, binlog_row_image=FULL): Debezium records without schemas are then trusted.',
      ),
    ),
  ),
  onPartialImage: opt(
    v.pipe(
      v.union([
        v.picklist(['dead-letter', 'ignore']),
        v.strictObject({
          invalidatePrefix: v.union([
            v.pipe(v.string(), v.minLength(1)),
            v.pipe(v.array(v.string()), v.minLength(1)),
          ]),
        }),
      ]),
      v.description(
        'When a template needs a field a partial image lacks (REPLICA IDENTITY DEFAULT, binlog_row_image=MINIMAL, KEYS_ONLY/NEW_IMAGE streams): dead-letter (default), ignore, or { invalidatePrefix }.',
      ),
    ),
  ),
});

/** A JSON rules config (`cdc-cache.config.json`). */
export const rulesFileSchema = v.strictObject({
  $schema: opt(v.string()),
  rules: v.pipe(
    v.array(ruleSchema),
    v.minLength(1),
    v.description('Rules, in order; every matching rule contributes ops.'),
  ),
  keyPrefix: opt(v.string()),
  defaults: opt(v.strictObject({ ttl: opt(seconds), jitter: opt(fraction) })),
  target: opt(
    v.pipe(targetSpec(), v.description('Default target for `replay`: engine, valkey://host:port, …')),
  ),
});
