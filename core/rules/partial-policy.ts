/**
 * A rule's `onPartialImage` policy: what happens when a template or filter needs a field that the
 * event's image does not really carry.
 *
 * An image is partial when the decoder marked it (`event.partial`), when the side of the change
 * that must exist has no image (an update or delete without `before`, a create or update without
 * `after`), or when the rule declares old images that hold key fields only (`images: 'new' | 'keys'`).
 * A field read from a partial image that is not there is never guessed: the record becomes a dead
 * letter naming the source setting to fix (the default), or the rule's declared prefixes are
 * invalidated instead, or (declared `ignore`) only the keys that can be built are kept.
 */
import { PartialImageError } from '../errors.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import type { PlanStats } from '../plan/plan-stats.ts';
import type { CacheOp } from '../targets/cache-op.ts';
import type { CompiledRule } from './compile.ts';

/**
 * True when the rule may read only key fields from the event's old image: it declares so
 * (`images: "new" | "keys"`), or the decoder could not verify the image (`beforeUnverified`: no
 * schema) and neither the rule (`images: "both"` written out) nor a start-up check (`--pg` found
 * REPLICA IDENTITY FULL: full-tables.ts) vouches for the table. No allocation: runs per event.
 */
export function oldImageKeysOnly(rule: CompiledRule, event: ChangeEvent): boolean {
  return (
    rule.oldKeysOnly ||
    (event.beforeUnverified !== undefined &&
      !rule.oldImagesDeclared &&
      !rule.fullTables.has(event.namespace, event.table))
  );
}

/** True when the `image` side of the event is partial for this rule. */
export function imageIsPartial(rule: CompiledRule, event: ChangeEvent, image: 'before' | 'after'): boolean {
  const op = event.op;
  if (image === 'before') {
    if (op !== 'update' && op !== 'delete') return false;
    return event.before === null || event.partial?.before !== undefined || oldImageKeysOnly(rule, event);
  }
  if (op === 'delete' || op === 'truncate') return false;
  return event.after === null || event.partial?.after !== undefined;
}

/** The old image a rule may read: none when the rule declares old images hold key fields only. */
export function readableBefore(rule: CompiledRule, event: ChangeEvent): ChangeEvent['before'] {
  return oldImageKeysOnly(rule, event) ? null : event.before;
}

/** The source setting that would make the image whole, as the user types it. */
function fixFor(rule: CompiledRule, event: ChangeEvent, image: 'before' | 'after'): string {
  if (image === 'before' && rule.oldKeysOnly && event.before !== null && event.partial === undefined)
    return `this rule declares images: "${rule.images}" (old images hold key fields only): capture full old images and set images: "both"`;
  const table = event.namespace === null ? event.table : `${event.namespace}.${event.table}`;
  if (image === 'before' && event.partial === undefined && event.beforeUnverified !== undefined) {
    const full =
      event.beforeUnverified === 'replica-identity'
        ? `ALTER TABLE ${table} REPLICA IDENTITY FULL`
        : `SET GLOBAL binlog_row_image = 'FULL'`;
    const check = event.beforeUnverified === 'replica-identity' ? ', or run with --pg to confirm it' : '';
    return `without a schema a column default cannot be told from a captured value: enable schemas on the converter (value.converter.schemas.enable=true), or declare images: "both" on the rule after ${full}${check}`;
  }
  switch (event.partial?.cause) {
    case 'replica-identity':
      return `ALTER TABLE ${table} REPLICA IDENTITY FULL`;
    case 'binlog-row-image':
      return `SET GLOBAL binlog_row_image = 'FULL' (MySQL/MariaDB)`;
  }
  if (event.source === 'dynamodb')
    return `set the stream view type of table ${event.table} to NEW_AND_OLD_IMAGES`;
  return 'capture full images at the source (PostgreSQL REPLICA IDENTITY FULL, MySQL binlog_row_image=FULL, MongoDB pre- and post-images)';
}

function capturedText(event: ChangeEvent, image: 'before' | 'after'): string {
  const row = event[image];
  const fields = event.partial?.[image];
  if (row === null) return `no ${image === 'before' ? 'old' : 'new'} image`;
  if (fields !== undefined) return `only ${fields.length === 0 ? 'no fields' : fields.join(', ')}`;
  if (image === 'before' && event.beforeUnverified !== undefined && event.partial === undefined)
    return 'an old image without a schema, which may hold column defaults in place of values';
  return 'key fields only';
}

/** Per event and rule: whether the policy already acted (one prefix invalidation per event). */
export interface PartialState {
  hit: boolean;
}

/**
 * Applies the rule's policy for one field a partial image lacks. Throws PartialImageError for
 * `dead-letter`; appends prefix invalidations (once per event) for `invalidatePrefix`.
 */
export function onPartialImage(
  rule: CompiledRule,
  event: ChangeEvent,
  need: { what: string; field: string; image: 'before' | 'after'; suggest: string },
  ops: CacheOp[],
  state: PartialState,
  stats: PlanStats | undefined,
): void {
  const policy = rule.partialPolicy;
  if (policy.kind !== 'dead-letter' && state.hit) return;
  const detail = `${need.what} needs field "${need.field}", which the ${need.image === 'before' ? 'old' : 'new'} image of this ${event.op} does not carry (the source captured ${capturedText(event, need.image)})`;
  if (policy.kind === 'dead-letter') {
    const suggest = need.suggest === '' ? 'the-prefix:' : need.suggest;
    throw new PartialImageError(
      `${rule.name}: ${detail}; fix: ${fixFor(rule, event, need.image)}, or declare onPartialImage: { invalidatePrefix: ${JSON.stringify(suggest)} } on the rule`,
      need.field,
      need.image,
    );
  }
  state.hit = true;
  stats?.partialImage(rule.index, detail);
  if (policy.kind === 'prefix')
    for (const prefix of policy.prefixes)
      ops.push({ kind: 'invalidatePrefix', prefix, version: event.version });
}
