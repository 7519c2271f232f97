/**
 * The rules configuration: which tables map to which cache keys, and what each change does to them.
 * Written as `cdc-cache.config.ts` (with `defineConfig` for types) or as JSON; validated once at load
 * by `compileConfig`, which names the config path and the fix for every mistake.
 */
import type { ChangeEvent, Op, Row, Source } from '../event/change-event.ts';

/**
 * What a change does to a key: drop it (leaving a tombstone), write the new projection, mark it stale
 * (`soft-invalidate`: the value stays, clients with stale-while-revalidate serve it while one caller
 * reloads, others miss; see docs/soft-invalidation-and-tags.md), or nothing.
 */
export const Actions = ['invalidate', 'refresh', 'soft-invalidate', 'ignore'] as const;
/** One of {@link Actions}. */
export type Action = (typeof Actions)[number];

/** Which row images the source captures for this table (DynamoDB StreamViewType, PostgreSQL REPLICA IDENTITY). */
export const ImageModes = ['keys', 'new', 'old', 'both'] as const;
/** One of {@link ImageModes}: `keys` = KEYS_ONLY, `new` = NEW_IMAGE, `old` = OLD_IMAGE, `both` = NEW_AND_OLD_IMAGES / FULL. */
export type ImageMode = (typeof ImageModes)[number];

/** A key template with its own action (e.g. refresh `user:{id}` but only invalidate `user:email:{email}`). */
export interface KeySpec {
  /** Template over key / before / after: `user:{id}`, `user:email:{email}`, `{before.email}`. */
  template: string;
  /** Overrides the rule's action for this key on create/update/read. */
  action?: Action;
}

/** Declarative filter (JSON-friendly). Every given condition must hold. */
export interface WhenSpec {
  /** Only these operations. */
  ops?: Op[];
  /**
   * Only when one of these fields differs between before and after (updates); always true without
   * both images, or with an old image the rule may not read (key-only, or unverified: no schema).
   */
  changed?: string[];
  /** Field path (`status`, `after.status`, `before.kind`) → required scalar value. */
  equals?: Record<string, string | number | boolean | null>;
}

/** How `refresh` builds the cached value from the new image. */
export interface RefreshSpec {
  /** Fields to keep (projection); all fields when neither this nor `project` is given. */
  fields?: string[];
  /** Projection function (TypeScript configs): returns the value to cache (string as-is, anything else as JSON), or undefined to invalidate instead. */
  project?: (after: Row, event: ChangeEvent) => unknown;
  /** Time to live in seconds (0 = no expiry). @default config.defaults.ttl */
  ttl?: number;
  /** TTL jitter as a fraction in [0, 1): the TTL is shortened by up to this share, deterministically per key and version. @default config.defaults.jitter */
  jitter?: number;
}

/**
 * What a rule does when a template (key, dependent, `when.equals`) needs a field the source did not
 * really capture (a partial old image: PostgreSQL REPLICA IDENTITY DEFAULT, MySQL
 * binlog_row_image=MINIMAL, DynamoDB KEYS_ONLY / NEW_IMAGE streams):
 * - `'dead-letter'`: the record becomes a dead letter whose reason names the source setting to fix;
 * - `{ invalidatePrefix }`: the keys that can be built are applied as usual, and every key under
 *   these prefixes (after the rule's prefix) is invalidated in place of the ones that cannot;
 * - `'ignore'`: only the keys that can be built are applied; the others may stay stale until their
 *   TTL (counted and reported as such).
 */
export type PartialImagePolicy = 'dead-letter' | 'ignore' | { invalidatePrefix: string | string[] };

/** One rule: a table → keys, with per-operation actions. */
export interface RuleSpec {
  /** Table to match: `users`, `public.users` (namespace.table), globs `inventory.*`, `*`. */
  table: string;
  /** Restrict to one source family. */
  source?: Source;
  /** Primary-key fields, used when a record carries no key (Debezium without a Kafka key). */
  keyFields?: string[];
  /** Key templates (at least one). */
  keys: (string | KeySpec)[];
  /** Prefix added to this rule's keys (after the config's `keyPrefix`). @default '' */
  prefix?: string;
  /** Default action for create/update/read. @default 'refresh' when `refresh` is set, else 'invalidate' */
  action?: Action;
  /** Per-operation actions; `delete` and `truncate` may be 'invalidate' or 'ignore'. */
  on?: Partial<Record<'create' | 'update' | 'delete' | 'read' | 'truncate', Action>>;
  /** How to build refreshed values. */
  refresh?: RefreshSpec;
  /** Other entities' keys to invalidate on every change (templates over both images). */
  dependents?: string[];
  /**
   * Tags to invalidate on every change (templates over both images, as dependents): every entry the
   * app cached with one of them (`getOrLoad(key, loader, { tags })`) is removed. The config's and
   * the rule's prefixes apply, as for keys.
   */
  tags?: string[];
  /** Filter: the rule applies only when this holds. */
  when?: WhenSpec | ((event: ChangeEvent) => boolean);
  /** What TRUNCATE invalidates. @default the literal prefixes of `keys` */
  truncate?: { prefixes?: string[] };
  /**
   * Which images the source captures; used to warn up front. `new` or `keys` also means old images
   * hold only key fields, for sources whose records cannot tell (e.g. no Kafka key). `both` (or
   * `old`) written out declares the old images full: Debezium PostgreSQL/MySQL records without a
   * schema are then trusted (left at the default, their non-key old-image fields follow
   * `onPartialImage` unless `--pg` confirmed REPLICA IDENTITY FULL). @default 'both'
   */
  images?: ImageMode;
  /** What to do when a template needs a field a partial image lacks. @default 'dead-letter' */
  onPartialImage?: PartialImagePolicy;
}

/** The whole configuration. */
export interface CdcCacheConfig {
  /** Rules, applied in order; every matching rule contributes ops. */
  rules: RuleSpec[];
  /** Prefix for every key. @default '' */
  keyPrefix?: string;
  /** Defaults for every rule. */
  defaults?: {
    /** Refresh TTL in seconds. @default 3600 */
    ttl?: number;
    /** TTL jitter fraction in [0, 1). @default 0 */
    jitter?: number;
  };
  /** Default cache target for `replay` and consumers: `engine`, `valkey://host:port`, `valkeys://…`. @default 'engine' */
  target?: string;
}

/** Rule defaults, exported so docs and code agree. */
export const CONFIG_DEFAULTS = {
  ttl: 3600,
  jitter: 0,
  target: 'engine',
  images: 'both' as ImageMode,
  onPartialImage: 'dead-letter' as PartialImagePolicy,
} as const;

/** Identity function that gives a TypeScript config its types: `export default defineConfig({ rules: [...] })`. */
export function defineConfig(config: CdcCacheConfig): CdcCacheConfig {
  return config;
}
