/**
 * Reading one field of a decoded row. A row is a plain object, so a name like `constructor`,
 * `toString` or `__proto__` that the row lacks reads Object.prototype's member (a function, or the
 * prototype itself), which no decoded field ever is: that is a missing field, not a value. Read
 * naively it became a key like `item:function Object() { [native code] }` or a refreshed value of
 * `{"constructor":undefined}`.
 */
import type { JsonValue, Row } from '../event/change-event.ts';

/** The value of field `f` of `row`, or undefined when the row does not have it as its own field. */
export function fieldOf(row: Row, f: string): JsonValue | undefined {
  const v = row[f];
  // Object.hasOwn only for the rare inherited-looking value: a normal field costs one typeof.
  if ((typeof v === 'function' || v === Object.prototype) && !Object.hasOwn(row, f)) return undefined;
  return v;
}
