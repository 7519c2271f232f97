/**
 * Key templates: `user:{id}`, `user:email:{email}`, `{before.email}`, `org:{key.org_id}:{address.city}`.
 *
 * A field reference is `{path}` where path may start with `key.`, `before.` or `after.` to pick an
 * image; without one it is resolved from the record key, then the current image. Dotted paths reach
 * into nested objects. A missing, null or unavailable field is an error: a key must never be built
 * from a guess. So is a field whose value is an object or array: a key field is a scalar.
 */
import type { JsonValue, Row } from '../event/change-event.ts';
import { isRawNumber, scalarText } from '../json/exact-json.ts';
import { fieldOf } from './row-field.ts';

/** Where a field reference reads from. */
export type ImageRef = 'auto' | 'key' | 'before' | 'after';

/** A compiled field reference. */
export interface FieldRef {
  image: ImageRef;
  path: string[];
  /** The field name when the path has one segment (the common case, read without a loop). */
  field: string | undefined;
  /** The reference as written, for messages. */
  text: string;
}

/** A compiled template: literal parts interleaved with field references. */
export interface Template {
  source: string;
  /** parts[0] literal, then ref, literal, ref, literal ... (literals may be ''). */
  literals: string[];
  refs: FieldRef[];
  /** The literal text before the first reference. */
  staticPrefix: string;
}

/** Thrown by `compileTemplate` with the reason; callers add the config path. */
export class TemplateSyntaxError extends Error {}

/** Compiles a template string, throwing TemplateSyntaxError when malformed. */
export function compileTemplate(source: string): Template {
  const literals: string[] = [];
  const refs: FieldRef[] = [];
  let lit = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '}') throw new TemplateSyntaxError(`stray "}" at position ${i}`);
    if (c !== '{') {
      lit += c;
      i++;
      continue;
    }
    const end = source.indexOf('}', i + 1);
    if (end < 0) throw new TemplateSyntaxError(`unclosed "{" at position ${i}: write fields as {name}`);
    const text = source.slice(i + 1, end).trim();
    if (text === '' || text.includes('{'))
      throw new TemplateSyntaxError(`empty or nested field reference at position ${i}`);
    const path = text.split('.');
    if (path.some((p) => p === ''))
      throw new TemplateSyntaxError(`field reference {${text}} has an empty path segment`);
    let image: ImageRef = 'auto';
    if ((path[0] === 'key' || path[0] === 'before' || path[0] === 'after') && path.length > 1) {
      image = path.shift() as ImageRef;
    }
    literals.push(lit);
    lit = '';
    refs.push({ image, path, field: path.length === 1 ? path[0] : undefined, text });
    i = end + 1;
  }
  literals.push(lit);
  if (refs.length === 0)
    throw new TemplateSyntaxError('has no field reference: a key template needs at least one {field}');
  return { source, literals, refs, staticPrefix: literals[0]! };
}

/** Reads a dotted path from a row; undefined when absent. */
export function readPath(row: Row | null, path: readonly string[]): JsonValue | undefined {
  let v: JsonValue | undefined = row ?? undefined;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || 'rawJSON' in v) return undefined;
    v = fieldOf(v as Row, p);
  }
  return v;
}

/** The images a template renders against. `current` is after (create/update/read) or before (delete). */
export interface TemplateImages {
  key: Row | null;
  before: Row | null;
  after: Row | null;
  current: Row | null;
  unavailable?: readonly string[] | undefined;
}

/** Why a reference could not be resolved (null when it can). */
export type Unresolved = {
  ref: FieldRef;
  reason: 'missing' | 'null' | 'unavailable' | 'not-scalar';
  image: string;
};

function resolve(ref: FieldRef, images: TemplateImages): JsonValue | Unresolved {
  let row: Row | null;
  let name: string;
  const field = ref.field;
  if (ref.image === 'auto') {
    const key = images.key;
    const fromKey =
      key === null ? undefined : field !== undefined ? fieldOf(key, field) : readPath(key, ref.path);
    if (fromKey !== undefined && fromKey !== null)
      return typeof fromKey === 'object' && !isRawNumber(fromKey)
        ? { ref, reason: 'not-scalar', image: 'key' }
        : fromKey;
    row = images.current;
    name = images.current === images.before ? 'before' : 'after';
  } else {
    row = images[ref.image];
    name = ref.image;
  }
  const unavailable = images.unavailable;
  if (unavailable !== undefined && name !== 'before' && field !== undefined && unavailable.includes(field)) {
    return { ref, reason: 'unavailable', image: name };
  }
  const v = field !== undefined && row !== null ? fieldOf(row, field) : readPath(row, ref.path);
  if (v === undefined)
    return { ref, reason: 'missing', image: row === null ? `${name} (no ${name} image)` : name };
  if (v === null) return { ref, reason: 'null', image: name };
  // A key field is a scalar: an object or array would render as JSON text (`customer:{"x":1}`).
  if (typeof v === 'object' && !isRawNumber(v)) return { ref, reason: 'not-scalar', image: name };
  return v;
}

function isUnresolved(v: JsonValue | Unresolved): v is Unresolved {
  return typeof v === 'object' && v !== null && 'reason' in v && 'ref' in v;
}

/** Renders a template; returns the key, or an Unresolved describing the first field that failed. */
export function renderTemplate(t: Template, images: TemplateImages): string | Unresolved {
  let out = t.literals[0]!;
  for (let i = 0; i < t.refs.length; i++) {
    const v = resolve(t.refs[i]!, images);
    if (isUnresolved(v)) return v;
    out += scalarText(v) + t.literals[i + 1]!;
  }
  return out;
}

/**
 * True when every field the template reads from images has the same scalar value in both images,
 * so the key built from the old image equals the one built from the new image (skips a render).
 */
export function sameInBothImages(t: Template, before: Row, after: Row): boolean {
  for (const r of t.refs) {
    if (r.image === 'key') continue;
    if (r.field === undefined || r.image !== 'auto') return false;
    const a = fieldOf(before, r.field);
    if (a !== fieldOf(after, r.field) || (typeof a === 'object' && a !== null)) return false;
  }
  return true;
}

/** Field names (first path segment) a template reads from images other than the key. */
export function imageFields(t: Template): string[] {
  return t.refs.filter((r) => r.image !== 'key').map((r) => r.path[0]!);
}
