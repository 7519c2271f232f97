/**
 * The load-time check of a rule's `keyFields`. A `keyFields` entry one letter away from a field the
 * rule's templates read, which itself is no key field (`idd` beside `user:{id}`), is a typo.
 * Records with a Kafka key never read keyFields (the key names the fields), so without this check
 * the typo would go unseen until a record without a key became a dead letter. Names farther away
 * may be real key columns no template reads; the planner reports the ones the record keys do not
 * carry (PlanStats.keyFieldsIn, finding `key-field`).
 */
import { editDistance } from '../config/did-you-mean.ts';
import type { Template } from './template.ts';

/** The first misspelt `keyFields` entry (its index and the message with the fix), if any. */
export function keyFieldsProblem(
  keyFields: readonly string[],
  templates: readonly Template[],
): { index: number; message: string } | undefined {
  const named = new Set(templates.flatMap((t) => t.refs.map((r) => r.path[0]!)));
  const others = [...named].filter((f) => !keyFields.includes(f));
  for (const [index, f] of keyFields.entries()) {
    if (named.has(f)) continue;
    const near = others.find((o) => o.toLowerCase() === f.toLowerCase() || editDistance(o, f) <= 1);
    if (near !== undefined)
      return {
        index,
        message: `"${f}" is read by none of the rule's templates (did you mean "${near}"?); keyFields names the primary-key fields a key is built from when a record carries no key`,
      };
  }
  return undefined;
}
