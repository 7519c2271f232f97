/**
 * What the rules did, per rule, across batches: how many events each rule matched, refreshes that
 * fell back to invalidate (and why), events whose partial image a rule could not serve, and tables
 * seen that no rule names. Read by the replay summary, `--strict`, and the consumers' metrics.
 *
 * Hot path: counters are plain number arrays indexed by rule (and reason); the planner increments
 * them in place. Strings are stored only for the first example of each fallback and for tables no
 * rule matched.
 */

/** Why a refresh became an invalidate. */
export const FallbackReasons = [
  /** The event carries no new image (delete-less sources: KEYS_ONLY / OLD_IMAGE, MongoDB patches). */
  'no-new-image',
  /** A projected field is missing from the new image (a typo such as `statuz`, or a dropped column). */
  'missing-field',
  /** A projected field's value was not sent (PostgreSQL unchanged TOAST). */
  'unavailable',
  /** The new image is partial (MySQL binlog_row_image=MINIMAL). */
  'partial-image',
  /** `refresh.project` returned undefined. */
  'projection',
] as const;
/** One of {@link FallbackReasons}. */
export type FallbackReason = (typeof FallbackReasons)[number];

const REASONS = FallbackReasons.length;

/** What {@link PlanStats.whenFieldsIn} reads of an event: its key and images. */
export interface WhenFieldSource {
  key: object | null;
  before: object | null;
  after: object | null;
}

/** Per-rule counters, accumulated over every batch planned with this object. */
export class PlanStats {
  /** Change events planned. */
  events = 0;
  /** Events each rule matched (table, source and `when`), indexed by rule. */
  readonly matched: number[];
  /** Events of a table each rule names, whatever its source and `when` said, indexed by rule. */
  readonly named: number[];
  /** Refresh fallbacks, indexed by `rule * FallbackReasons.length + reason`. */
  readonly fallbacks: number[];
  /** The first field seen for each fallback slot (e.g. `statuz`), for messages. */
  readonly fallbackFields: (string | undefined)[];
  /** Events whose partial image a rule's templates could not serve (its onPartialImage applied). */
  readonly partialImages: number[];
  /** The first partial-image detail per rule, for messages. */
  readonly partialDetails: (string | undefined)[];
  /** `namespace.table` (or `table`) → events whose table no rule names. */
  readonly unmatchedTables = new Map<string, number>();
  /** `namespace.table` (or `table`) of every table an event was planned for. */
  readonly tables = new Set<string>();
  #lastTable: string | undefined;
  #lastNamespace: string | null | undefined;
  /** Events of each rule's tables checked for its `when` fields (only rules with a JSON `when`). */
  readonly whenEvents: number[];
  /** Per rule, the `when` fields no event of its tables has carried yet (undefined before the first). */
  private readonly whenUnseen: (Set<string> | undefined)[];
  /** Events of each rule's tables that carried a record key, checked for its `keyFields`. */
  readonly keyEvents: number[];
  /** Per rule, the `keyFields` no record key has carried yet (undefined before the first key). */
  private readonly keyUnseen: (Set<string> | undefined)[];
  /** Per rule, the field names of the first record key seen (for the did-you-mean). */
  readonly recordKeyFields: (string[] | undefined)[];

  /** `rules` = the number of rules in the compiled config. */
  constructor(rules: number) {
    this.matched = new Array<number>(rules).fill(0);
    this.named = new Array<number>(rules).fill(0);
    this.fallbacks = new Array<number>(rules * REASONS).fill(0);
    this.fallbackFields = new Array<string | undefined>(rules * REASONS).fill(undefined);
    this.partialImages = new Array<number>(rules).fill(0);
    this.partialDetails = new Array<string | undefined>(rules).fill(undefined);
    this.whenEvents = new Array<number>(rules).fill(0);
    this.whenUnseen = new Array<Set<string> | undefined>(rules).fill(undefined);
    this.keyEvents = new Array<number>(rules).fill(0);
    this.keyUnseen = new Array<Set<string> | undefined>(rules).fill(undefined);
    this.recordKeyFields = new Array<string[] | undefined>(rules).fill(undefined);
  }

  /**
   * Notes which of `rule`'s `keyFields` a record key (of a table the rule names) carries. A record
   * with a key never reads keyFields, so a misspelt entry would otherwise go unnoticed until a
   * record without a key came. Once every field was seen the rule costs one comparison per event.
   */
  keyFieldsIn(rule: number, keyFields: readonly string[], key: object): void {
    let unseen = this.keyUnseen[rule];
    if (unseen === undefined) {
      this.keyUnseen[rule] = unseen = new Set(keyFields);
      this.recordKeyFields[rule] = Object.keys(key);
    }
    if (unseen.size === 0) return;
    this.keyEvents[rule]!++;
    for (const field of unseen) if (field in key) unseen.delete(field);
  }

  /** `rule`'s `keyFields` that none of the record keys of its events carried. */
  keyFieldsUnseen(rule: number): string[] {
    const unseen = this.keyUnseen[rule];
    return unseen === undefined || this.keyEvents[rule] === 0 ? [] : [...unseen];
  }

  /**
   * Notes which of `rule`'s `when` fields `event` (of a table the rule names) carries, in its key or
   * either image. Once every field was seen the rule costs one comparison per event.
   */
  whenFieldsIn(rule: number, fields: readonly { field: string }[], event: WhenFieldSource): void {
    let unseen = this.whenUnseen[rule];
    if (unseen === undefined) this.whenUnseen[rule] = unseen = new Set(fields.map((f) => f.field));
    if (unseen.size === 0) return;
    this.whenEvents[rule]!++;
    for (const field of unseen) {
      if (
        (event.after !== null && field in event.after) ||
        (event.before !== null && field in event.before) ||
        (event.key !== null && field in event.key)
      )
        unseen.delete(field);
    }
  }

  /** `rule`'s `when` fields that none of its events carried (empty before its first event). */
  whenFieldsUnseen(rule: number): string[] {
    const unseen = this.whenUnseen[rule];
    return unseen === undefined || this.whenEvents[rule] === 0 ? [] : [...unseen];
  }

  /** Notes the table of one planned event (no work when it is the previous event's table). */
  sawTable(table: string, namespace: string | null): void {
    if (table === this.#lastTable && namespace === this.#lastNamespace) return;
    this.#lastTable = table;
    this.#lastNamespace = namespace;
    this.tables.add(namespace === null ? table : `${namespace}.${table}`);
  }

  /** Counts one refresh that fell back to invalidate. */
  fallback(rule: number, reason: FallbackReason, field: string | undefined): void {
    const slot = rule * REASONS + FallbackReasons.indexOf(reason);
    this.fallbacks[slot]!++;
    if (field !== undefined && this.fallbackFields[slot] === undefined) this.fallbackFields[slot] = field;
  }

  /** Counts one event a rule could not serve from its partial image. */
  partialImage(rule: number, detail: string): void {
    this.partialImages[rule]!++;
    if (this.partialDetails[rule] === undefined) this.partialDetails[rule] = detail;
  }

  /** Counts one event whose table no rule names. */
  unmatchedTable(table: string, namespace: string | null): void {
    const name = namespace === null ? table : `${namespace}.${table}`;
    this.unmatchedTables.set(name, (this.unmatchedTables.get(name) ?? 0) + 1);
  }

  /** Refresh fallbacks of one rule for one reason. */
  fallbackCount(rule: number, reason: FallbackReason): number {
    return this.fallbacks[rule * REASONS + FallbackReasons.indexOf(reason)]!;
  }

  /** The first field seen for a rule's fallbacks of one reason. */
  fallbackField(rule: number, reason: FallbackReason): string | undefined {
    return this.fallbackFields[rule * REASONS + FallbackReasons.indexOf(reason)];
  }
}
