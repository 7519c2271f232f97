/**
 * The compiled form of a configuration (compile.ts builds it once, at load): what the planner,
 * the evaluators and the tools read on the hot path. Types only.
 */
import type { ChangeEvent, Op, Source } from '../event/change-event.ts';
import type { Action, ImageMode, RefreshSpec } from './config.ts';
import type { FullTables } from './full-tables.ts';
import type { TableMatcher } from './match.ts';
import type { Template } from './template.ts';

/** A key template with its resolved action for create/update/read. */
export interface CompiledKey {
  template: Template;
  action: Action;
}

/** A rule ready for evaluation. */
export interface CompiledRule {
  index: number;
  /** `rules[3] (users)`, for messages. */
  name: string;
  table: TableMatcher;
  source: Source | undefined;
  keyFields: string[] | undefined;
  keys: CompiledKey[];
  prefix: string;
  actions: Record<Op, Action>;
  refresh: {
    fields: string[] | undefined;
    /** `"name":` for each projected field, precomputed for the hot path. */
    fieldJson: string[] | undefined;
    project: RefreshSpec['project'];
    ttlMs: number;
    jitter: number;
  };
  dependents: Template[];
  /** Tag templates (`customer:{customer_id}`): each change invalidates these tags. */
  tags: Template[];
  when: ((event: ChangeEvent) => boolean) | undefined;
  /**
   * The image fields a JSON `when` reads (`when.changed`, and `when.equals` by first path segment),
   * with the option naming them: the planner's stats note which ones no event carried (a typo such
   * as `statuz` would make the filter skip changes silently; rule-report.ts turns it into a finding).
   */
  whenFields: readonly WhenField[];
  truncatePrefixes: string[];
  images: ImageMode;
  /** True when the rule declares old images that hold key fields only (`images` is `new` or `keys`). */
  oldKeysOnly: boolean;
  /**
   * True when the rule declares, in so many words, that old images are full (`images: "both"` or
   * `"old"` written out, not defaulted): schemaless old images are then trusted (partial-policy.ts).
   */
  oldImagesDeclared: boolean;
  /** The config's tables confirmed full at start (shared by every rule; see full-tables.ts). */
  fullTables: FullTables;
  /** The compiled `onPartialImage` policy. */
  partialPolicy: CompiledPartialPolicy;
}

/** A field a JSON `when` reads, and which option names it. */
export interface WhenField {
  field: string;
  option: 'when.changed' | 'when.equals';
}

/** `onPartialImage` compiled: prefixes already carry the config's and the rule's prefix. */
export type CompiledPartialPolicy =
  | { kind: 'dead-letter' }
  | { kind: 'ignore' }
  | { kind: 'prefix'; prefixes: string[] };

/** A validated configuration. */
export interface CompiledConfig {
  rules: CompiledRule[];
  keyPrefix: string;
  target: string;
  warnings: string[];
  /**
   * Tables a start-up check confirmed capture full old images (`consume --pg`, `verify --pg` add
   * them: replica-identity.ts); rules trust their schemaless old images.
   */
  fullTables: FullTables;
}
