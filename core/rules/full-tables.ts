/**
 * The tables a start-up check confirmed capture full old images (PostgreSQL REPLICA IDENTITY FULL,
 * read by `consume --pg` / `verify --pg`: replica-identity.ts). Rules trust a schemaless old image
 * only for these tables or when they declare `images: "both"` (see partial-policy.ts).
 *
 * Looked up per event without allocating: namespace → table names, no joined key.
 */

/** A set of (namespace, table) pairs; `null` namespace for sources that have none. */
export class FullTables {
  readonly #byNamespace = new Map<string | null, Set<string>>();

  /** Records that `namespace.table` captures full old images. */
  add(namespace: string | null, table: string): void {
    let tables = this.#byNamespace.get(namespace);
    if (tables === undefined) {
      tables = new Set();
      this.#byNamespace.set(namespace, tables);
    }
    tables.add(table);
  }

  /** True when `namespace.table` was confirmed full. */
  has(namespace: string | null, table: string): boolean {
    return this.#byNamespace.get(namespace)?.has(table) === true;
  }

  /** Number of tables recorded. */
  get size(): number {
    let n = 0;
    for (const t of this.#byNamespace.values()) n += t.size;
    return n;
  }
}
