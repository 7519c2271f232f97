/**
 * Evaluates one compiled rule against one ChangeEvent, producing CacheOps (not yet coalesced).
 *
 * - create/update/read: each key built from the new image gets the key's action (refresh or
 *   invalidate); on update, keys built from the old image that differ are invalidated (email changed →
 *   the old email key goes).
 * - delete: keys built from the old image (or the record key) are invalidated.
 * - truncate: the rule's key prefixes are invalidated.
 * - dependents are invalidated from every image they can be built from; so are tags (`invalidateTag`).
 * - `soft-invalidate` marks a key stale instead of removing it (keys built from the new image; a key
 *   only the old image names, and every key of a delete, is invalidated).
 * - refresh falls back to invalidate when the new image is absent, partial, or lacks (or has
 *   unavailable) fields the projection needs; the reason is counted in PlanStats.
 * - a template that needs a field a partial image lacks follows the rule's onPartialImage
 *   (partial-policy.ts): never a key from a stand-in value.
 * Throws RuleError (never retriable) when a key cannot be built: a key from a guess is worse than a
 * dead letter.
 */

import { closestName } from '../config/did-you-mean.ts';
import { ErrorCode, PartialImageError, RuleError } from '../errors.ts';
import type { ChangeEvent, JsonValue, Row } from '../event/change-event.ts';
import type { FallbackReason, PlanStats } from '../plan/plan-stats.ts';
import type { CacheOp } from '../targets/cache-op.ts';
import type { CompiledRule } from './compile.ts';
import { imageIsPartial, onPartialImage, type PartialState, readableBefore } from './partial-policy.ts';
import { fieldOf } from './row-field.ts';
import {
  renderTemplate,
  sameInBothImages,
  type Template,
  type TemplateImages,
  type Unresolved,
} from './template.ts';

/** True when the rule names the event's table (and source); its filter is not consulted. */
export function ruleNamesTable(rule: CompiledRule, event: ChangeEvent): boolean {
  if (rule.source !== undefined && rule.source !== event.source) return false;
  return rule.table.matches(event.table, event.namespace);
}

/** True when the rule applies to the event (table, source, filter). */
export function ruleMatches(rule: CompiledRule, event: ChangeEvent): boolean {
  if (!ruleNamesTable(rule, event)) return false;
  return whenHolds(rule, event);
}

/**
 * True when the rule's filter holds (always without one). Throws PartialImageError when a JSON
 * filter reads a field a partial image lacks, RuleError when a filter function throws.
 */
export function whenHolds(rule: CompiledRule, event: ChangeEvent): boolean {
  if (rule.when === undefined) return true;
  try {
    return rule.when(event);
  } catch (cause) {
    if (cause instanceof PartialImageError) throw cause;
    throw new RuleError(ErrorCode.RuleFunction, `${rule.name}: "when" threw: ${(cause as Error).message}`, {
      cause,
    });
  }
}

const CAPTURE_HINT =
  'capture the needed image — NEW_AND_OLD_IMAGES / REPLICA IDENTITY FULL — or set keyFields';

/**
 * For a field missing from an image that is there and whole (most often a typo in the template,
 * `{custmer_id}`): the closest field the image has and the fields it has, so the fix is not
 * looked for in the source's settings. Undefined when the image is absent or partial.
 */
function missingFieldHint(u: Unresolved, event: ChangeEvent): string | undefined {
  if (u.reason !== 'missing' || u.ref.path.length !== 1) return undefined;
  const side = u.image;
  const row =
    side === 'key' ? event.key : side === 'before' ? event.before : side === 'after' ? event.after : null;
  const partial = side === 'before' || side === 'after' ? event.partial?.[side] : undefined;
  if (row === null || partial !== undefined) return undefined;
  const fields = Object.keys(row);
  if (fields.length === 0) return undefined;
  const near = closestName(u.ref.path[0]!, fields);
  const shown = fields.length > 10 ? `${fields.slice(0, 10).join(', ')}, …` : fields.join(', ');
  return `${near === undefined ? '' : `did you mean "${near}"? `}the ${side} image has ${shown}: fix the template, or if the field exists, ${CAPTURE_HINT}`;
}

function unresolvedError(
  rule: CompiledRule,
  t: Template,
  u: Unresolved,
  event: ChangeEvent,
  what = 'key template',
): RuleError {
  const why =
    u.reason === 'unavailable'
      ? 'is unavailable (unchanged TOAST value not sent)'
      : u.reason === 'null'
        ? 'is null'
        : u.reason === 'not-scalar'
          ? 'is an object or array, not a scalar (a key field must be a string, number or boolean)'
          : 'is missing';
  return new RuleError(
    ErrorCode.TemplateField,
    `${rule.name}: ${what} "${t.source}": field "${u.ref.text}" ${why} in the ${u.image} image of this ${event.op}` +
      ` (${missingFieldHint(u, event) ?? CAPTURE_HINT})`,
  );
}

/** FNV-1a over key and version → [0, 1): deterministic jitter, so replays produce identical TTLs. */
function unitHash(key: string, version: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193); // separator
  for (let i = 0; i < version.length; i++) h = Math.imul(h ^ version.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 0x100000000;
}

/**
 * True when `v` holds a character a JSON string must escape (`"`, `\\`, a control character) or a
 * surrogate (JSON.stringify rewrites lone ones). A loop, not a regex: this runs for every projected
 * string field, most of them short, where the regex call cost more than the scan.
 */
function needsEscape(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** JSON text of one value; plain strings and safe numbers skip the JSON.stringify call. */
function jsonValue(v: JsonValue): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string' && !needsEscape(v)) return `"${v}"`;
  return JSON.stringify(v);
}

/** Builds the refreshed value, or undefined when the image cannot support it (→ invalidate). */
function project(rule: CompiledRule, event: ChangeEvent): string | undefined {
  const after = event.after;
  if (after === null) return noValue('no-new-image', undefined);
  const unavailable = event.unavailable ?? [];
  const { fields, project: fn } = rule.refresh;
  if (fn !== undefined) {
    if (unavailable.length > 0) return noValue('unavailable', unavailable[0]);
    let v: unknown;
    try {
      v = fn(after, event);
    } catch (cause) {
      throw new RuleError(
        ErrorCode.RuleFunction,
        `${rule.name}: refresh.project threw: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (v === undefined) return noValue('projection', undefined);
    return typeof v === 'string' ? v : JSON.stringify(v);
  }
  if (fields === undefined)
    return unavailable.length > 0 ? noValue('unavailable', unavailable[0]) : JSON.stringify(after);
  if (unavailable.length === 0 && asObject(fields)) {
    // JSON.stringify of the picked fields: one flat string, where text built piece by piece is a
    // chain of cons strings the socket write flattens again (about 3× the bytes allocated).
    const picked: Row = {};
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const v = fieldOf(after, f);
      if (v === undefined) return noValue('missing-field', f);
      picked[f] = v;
    }
    return JSON.stringify(picked);
  }
  // Built as text: same bytes as JSON.stringify of the projected object.
  const names = rule.refresh.fieldJson!;
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const v = fieldOf(after, f);
    if (unavailable.length > 0 && unavailable.includes(f)) return noValue('unavailable', f);
    if (v === undefined) return noValue('missing-field', f);
    out += (i === 0 ? '{' : ',') + names[i] + jsonValue(v);
  }
  return `${out}}`;
}

/** Per field list: whether an object with those keys serialises them in that order, each once. */
const OBJECT_SAFE = new WeakMap<readonly string[], boolean>();

/**
 * True when assigning `fields` to a fresh object in order, then JSON.stringify, gives exactly the
 * text build's bytes: names distinct, none an array index (objects list those first, ascending),
 * none `__proto__` (an assignment would set the prototype instead).
 */
function asObject(fields: readonly string[]): boolean {
  let safe = OBJECT_SAFE.get(fields);
  if (safe === undefined) {
    safe =
      fields.length > 0 && // verify's probe projects none (core/verify/expected.ts): left as it was
      new Set(fields).size === fields.length &&
      fields.every((f) => f !== '__proto__' && !(/^(0|[1-9]\d*)$/.test(f) && Number(f) < 2 ** 32 - 1));
    OBJECT_SAFE.set(fields, safe);
  }
  return safe;
}

function ttlMs(rule: CompiledRule, key: string, version: string): number {
  const { ttlMs: ttl, jitter } = rule.refresh;
  if (jitter === 0 || ttl === 0) return ttl;
  return Math.max(1, Math.round(ttl * (1 - jitter * unitHash(key, version))));
}

function withKeyFields(rule: CompiledRule, event: ChangeEvent): Row | null {
  if (event.key !== null || rule.keyFields === undefined) return event.key;
  const image = event.after ?? event.before;
  if (image === null) return null;
  const key: Row = {};
  for (const f of rule.keyFields) {
    const v = fieldOf(image, f);
    if (v === undefined || v === null) {
      throw new RuleError(
        ErrorCode.TemplateField,
        `${rule.name}: key field "${f}" is missing from the record's images and the record has no key`,
      );
    }
    key[f] = v;
  }
  return key;
}

/** Why the last `project` call returned undefined, and the field involved (read right after it). */
let fallbackReason: FallbackReason = 'projection';
let fallbackField: string | undefined;

function noValue(reason: FallbackReason, field: string | undefined): undefined {
  fallbackReason = reason;
  fallbackField = field;
  return undefined;
}

/**
 * Per-call partial-image state, module-level so the hot path allocates nothing for it
 * (evaluateRule is synchronous and never re-entered).
 */
const PARTIAL: PartialState & { oldPartial: boolean; newPartial: boolean } = {
  hit: false,
  oldPartial: false,
  newPartial: false,
};

/**
 * When `u` is a field a partial image lacks, applies the rule's policy (throws for dead-letter) and
 * returns true; false when the image is whole (the caller's usual handling applies). `side`: the
 * image an unqualified reference read (the template's `current`).
 */
function partialMiss(
  rule: CompiledRule,
  event: ChangeEvent,
  ops: CacheOp[],
  stats: PlanStats | undefined,
  what: string,
  t: Template,
  u: Unresolved,
  side: 'before' | 'after',
): boolean {
  if (u.reason !== 'missing' || u.ref.image === 'key') return false;
  const image = u.ref.image === 'auto' ? side : u.ref.image === 'before' ? 'before' : 'after';
  if (!(image === 'before' ? PARTIAL.oldPartial : PARTIAL.newPartial)) return false;
  const need = { what: `${what} "${t.source}"`, field: u.ref.text, image, suggest: t.staticPrefix } as const;
  onPartialImage(rule, event, need, ops, PARTIAL, stats);
  return true;
}

/**
 * Per-call scratch of evaluateRule, module-level like PARTIAL: the images templates render against
 * (new side, old side) and the keys written so far. Only read during the call that filled them.
 */
const IMAGES: TemplateImages = {
  key: null,
  before: null,
  after: null,
  current: null,
  unavailable: undefined,
};
const OLD_IMAGES: TemplateImages = { key: null, before: null, after: null, current: null };
const WRITTEN: string[] = [];

/** Produces the ops one rule asks for on one event, appended to `ops` (returned). */
export function evaluateRule(
  rule: CompiledRule,
  event: ChangeEvent,
  ops: CacheOp[] = [],
  stats?: PlanStats,
): CacheOp[] {
  const { version, op } = event;
  const action = rule.actions[op];
  if (action === 'ignore') return ops;
  if (op === 'truncate') {
    for (const prefix of rule.truncatePrefixes)
      ops.push({ kind: 'invalidatePrefix', prefix: rule.prefix + prefix, version });
    return ops;
  }
  const key = withKeyFields(rule, event);
  const deleting = op === 'delete';
  const before = readableBefore(rule, event);
  const after = event.after;
  // Partial images (see partial-policy.ts): a field they lack follows the rule's onPartialImage.
  const oldPartial = imageIsPartial(rule, event, 'before');
  const newPartial = imageIsPartial(rule, event, 'after');
  PARTIAL.hit = false;
  PARTIAL.oldPartial = oldPartial;
  PARTIAL.newPartial = newPartial;
  const current = deleting ? before : after;
  const images = IMAGES;
  images.key = key;
  images.before = before;
  images.after = after;
  images.current = current;
  images.unavailable = event.unavailable;
  // New-image keys first, then old-image keys that differ, so an old key never shadows a new one.
  // `written` is an array: rules have a handful of keys, and a Set costs more than it saves here.
  const written = WRITTEN;
  written.length = 0;
  let value: string | undefined | null = null; // null = not computed yet
  for (const k of rule.keys) {
    const rendered = renderTemplate(k.template, images);
    if (typeof rendered !== 'string') {
      if (
        partialMiss(
          rule,
          event,
          ops,
          stats,
          'key template',
          k.template,
          rendered,
          deleting ? 'before' : 'after',
        )
      )
        continue;
      throw unresolvedError(rule, k.template, rendered, event);
    }
    const full = rule.prefix + rendered;
    written.push(full);
    if (deleting || k.action === 'invalidate' || action === 'invalidate') {
      ops.push({ kind: 'invalidate', key: full, version });
    } else if (k.action === 'soft-invalidate' || action === 'soft-invalidate') {
      ops.push({ kind: 'softInvalidate', key: full, version });
    } else if (k.action === 'refresh') {
      if (value === null) {
        value = newPartial && after !== null ? noValue('partial-image', undefined) : project(rule, event);
        if (value === undefined) stats?.fallback(rule.index, fallbackReason, fallbackField);
      }
      if (value === undefined) ops.push({ kind: 'invalidate', key: full, version });
      else ops.push({ kind: 'refresh', key: full, value, ttlMs: ttlMs(rule, full, version), version });
    }
  }
  if (op === 'update' && (before !== null || oldPartial)) {
    const oldImages = OLD_IMAGES;
    oldImages.key = key;
    oldImages.before = before;
    oldImages.after = after;
    oldImages.current = before;
    for (const k of rule.keys) {
      if (after !== null && before !== null && sameInBothImages(k.template, before, after)) continue;
      const old = renderTemplate(k.template, oldImages);
      if (typeof old !== 'string') {
        // A full old image lacking the field (null before, a column added since) names no old key.
        partialMiss(rule, event, ops, stats, 'key template', k.template, old, 'before');
        continue;
      }
      const full = rule.prefix + old;
      if (!written.includes(full)) {
        written.push(full);
        ops.push({ kind: 'invalidate', key: full, version });
      }
    }
  }
  for (const d of rule.dependents) appendFromImages(rule, event, ops, stats, d, 'dependent', images, written);
  if (rule.tags.length > 0) {
    const tags: string[] = [];
    // The rule's soft-invalidate action marks tagged entries stale too (a delete removes them).
    const soft = !deleting && action === 'soft-invalidate';
    for (const t of rule.tags) appendFromImages(rule, event, ops, stats, t, 'tag', images, tags, soft);
  }
  return ops;
}

/** Appends the invalidation of a dependent key or a tag, once per name (no closure on the hot path). */
function pushNamed(
  ops: CacheOp[],
  seen: string[],
  name: string,
  what: 'dependent' | 'tag',
  version: string,
  soft: boolean,
): void {
  if (seen.includes(name)) return;
  seen.push(name);
  ops.push(
    what === 'dependent'
      ? { kind: 'invalidate', key: name, version }
      : soft
        ? { kind: 'invalidateTag', tag: name, version, soft: true }
        : { kind: 'invalidateTag', tag: name, version },
  );
}

/**
 * Dependents and tags: built from every image they can be (new, then old), each name once (`seen`);
 * a template no image can build is a dead letter unless a partial image's policy handled it.
 */
function appendFromImages(
  rule: CompiledRule,
  event: ChangeEvent,
  ops: CacheOp[],
  stats: PlanStats | undefined,
  d: Template,
  what: 'dependent' | 'tag',
  images: TemplateImages,
  seen: string[],
  soft = false,
): void {
  const { version } = event;
  const { key, before, after } = images;
  const newPartial = PARTIAL.newPartial;
  const oldPartial = PARTIAL.oldPartial;
  let built = false;
  let handled = false;
  let firstFailure: Unresolved | undefined;
  for (let side = 0; side < 2; side++) {
    const image = side === 0 ? after : before;
    if (image === null && !(side === 0 ? newPartial : oldPartial)) continue;
    const r = renderTemplate(d, {
      key,
      before,
      after,
      current: image,
      unavailable: side === 0 ? event.unavailable : undefined,
    });
    if (typeof r !== 'string') {
      if (partialMiss(rule, event, ops, stats, what, d, r, side === 0 ? 'after' : 'before')) handled = true;
      else firstFailure ??= r;
      continue;
    }
    built = true;
    pushNamed(ops, seen, rule.prefix + r, what, version, soft);
  }
  if (!built && !handled) {
    const r = renderTemplate(d, images);
    if (typeof r === 'string') pushNamed(ops, seen, rule.prefix + r, what, version, soft);
    else throw unresolvedError(rule, d, firstFailure ?? r, event, `${what} template`);
  }
}
