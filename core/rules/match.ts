/**
 * Table patterns: `users` (any namespace), `public.users` (namespace.table), globs with `*` and `?`
 * in either part. DynamoDB tables (no namespace) match the pattern against the whole name, since
 * their names may contain dots.
 */

/** A compiled table pattern. */
export interface TableMatcher {
  readonly pattern: string;
  matches(table: string, namespace: string | null): boolean;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Compiles a table pattern. */
export function compileTableMatcher(pattern: string): TableMatcher {
  const dotAt = pattern.indexOf('.');
  if (!/[*?]/.test(pattern)) {
    // Exact patterns (the common case) compare strings; no regex, no concatenation.
    const ns = dotAt >= 0 ? pattern.slice(0, dotAt) : undefined;
    const tbl = dotAt >= 0 ? pattern.slice(dotAt + 1) : pattern;
    return {
      pattern,
      matches(table, namespace) {
        if (table === pattern) return true; // DynamoDB names with dots, or an unqualified match
        return ns !== undefined && namespace === ns && table === tbl;
      },
    };
  }
  const whole = globToRegExp(pattern);
  const dot = pattern.indexOf('.');
  const qualified = dot >= 0;
  return {
    pattern,
    matches(table, namespace) {
      if (namespace === null) return whole.test(table);
      if (qualified) return whole.test(`${namespace}.${table}`) || whole.test(table);
      return whole.test(table);
    },
  };
}
