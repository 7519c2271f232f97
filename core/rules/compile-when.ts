/**
 * A rule's `when` filter compiled: a JSON spec ({ ops, changed, equals }) becomes a predicate over
 * change events that throws PartialImageError rather than guess from a partial image; a function
 * is used as it is. Also lists the image fields a JSON spec reads (rule-report.ts findings).
 */
import { PartialImageError } from '../errors.ts';
import type { ChangeEvent } from '../event/change-event.ts';
import { Ops } from '../event/change-event.ts';
import type { WhenField } from './compiled-config.ts';
import type { WhenSpec } from './config.ts';
import { checkKeys, fail, isStrArray } from './config-checks.ts';

/** The image fields a JSON `when` spec reads (none for a function). */
export function whenFieldsOf(when: unknown): WhenField[] {
  if (typeof when !== 'object' || when === null) return [];
  const spec = when as WhenSpec;
  const out: WhenField[] = [];
  const add = (field: string, option: WhenField['option']) => {
    if (field !== '' && !out.some((f) => f.field === field)) out.push({ field, option });
  };
  for (const f of spec.changed ?? []) add(f, 'when.changed');
  for (const path of Object.keys(spec.equals ?? {})) {
    const parts = path.split('.');
    if (parts[0] === 'before' || parts[0] === 'after') parts.shift(); // as compileWhen reads it
    if (parts[0] !== undefined) add(parts[0], 'when.equals');
  }
  return out;
}

/** True when a JSON filter reading `side` of the event must not guess (see rules/partial-policy.ts). */
function sidePartial(event: ChangeEvent, side: 'before' | 'after', keysOnly: boolean): boolean {
  const op = event.op;
  if (side === 'before')
    return (
      (op === 'update' || op === 'delete') &&
      (event.before === null || keysOnly || event.partial?.before !== undefined)
    );
  return op !== 'delete' && (event.after === null || event.partial?.after !== undefined);
}

/**
 * The rule's `when` (at config path `path`) as a predicate, or undefined without one.
 * `oldKeysOnly(event)` says when the event's old image may not be read (key-only or unverified).
 */
export function compileWhen(
  when: unknown,
  where: string,
  path: string,
  oldKeysOnly: (event: ChangeEvent) => boolean,
): ((event: ChangeEvent) => boolean) | undefined {
  if (when === undefined) return undefined;
  if (typeof when === 'function') return when as (event: ChangeEvent) => boolean;
  if (typeof when !== 'object' || when === null)
    fail(where, path, 'must be an object { ops, changed, equals } or a function');
  checkKeys(when, new Set(['ops', 'changed', 'equals']), where, path);
  const spec = when as WhenSpec;
  if (spec.ops !== undefined && (!isStrArray(spec.ops) || spec.ops.some((o) => !Ops.includes(o)))) {
    fail(where, `${path}.ops`, `must list operations from ${Ops.join(', ')}`);
  }
  if (spec.changed !== undefined && !isStrArray(spec.changed))
    fail(where, `${path}.changed`, 'must be a list of field names');
  const equals = Object.entries(spec.equals ?? {}).map(([field, value]) => {
    const parts = field.split('.');
    const image =
      parts[0] === 'before' || parts[0] === 'after' ? (parts.shift() as 'before' | 'after') : undefined;
    return { image, parts, value, field };
  });
  return (event) => {
    if (spec.ops !== undefined && !spec.ops.includes(event.op)) return false;
    // An old image the rule may not read (key-only, or unverified without a schema) cannot say
    // what changed: the filter holds, as it does without both images.
    if (spec.changed !== undefined && event.before !== null && event.after !== null && !oldKeysOnly(event)) {
      const b = event.before;
      const a = event.after;
      if (!spec.changed.some((f) => JSON.stringify(b[f]) !== JSON.stringify(a[f]))) return false;
    }
    for (const { image, parts, value, field } of equals) {
      const side = image ?? (event.after !== null ? 'after' : 'before');
      const keysOnly = side === 'before' && oldKeysOnly(event);
      let v: unknown = keysOnly ? event.key : event[side];
      for (const p of parts)
        v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
      if (v === undefined && sidePartial(event, side, keysOnly))
        throw new PartialImageError(`filter when.equals.${field}`, parts.join('.'), side);
      if (v !== value) return false;
    }
    return true;
  };
}
