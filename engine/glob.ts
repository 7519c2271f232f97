/**
 * Valkey glob patterns (KEYS, SCAN MATCH, write-through hook patterns): `*`, `?`, `[abc]`, `[^a]`,
 * `[a-z]`, and `\` escapes, matched on code units (keys are byte strings held as latin1 strings),
 * with the same edge cases as Valkey's `stringmatchlen` (an unclosed `[` matches to the end).
 */

/** True when `s` matches the Valkey glob `pattern`. */
export function globMatch(pattern: string, s: string): boolean {
  return matchAt(pattern, 0, s, 0, 0);
}

/** True when `pattern` has no special characters, so it can only match itself. */
export function isLiteralPattern(pattern: string): boolean {
  return !/[*?[\\]/.test(pattern);
}

function matchAt(p: string, pi: number, s: string, si: number, depth: number): boolean {
  // Depth bound as in Valkey: pathological patterns fail instead of recursing without end.
  if (depth > 1000) return false;
  while (pi < p.length) {
    const c = p[pi];
    if (c === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) {
        if (matchAt(p, pi + 1, s, k, depth + 1)) return true;
      }
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      pi++;
      const not = p[pi] === '^';
      if (not) pi++;
      let matched = false;
      const ch = s.charCodeAt(si);
      for (;;) {
        if (pi >= p.length) {
          pi--;
          break;
        }
        if (p[pi] === '\\' && pi + 2 < p.length) {
          pi++;
          if (p.charCodeAt(pi) === ch) matched = true;
        } else if (p[pi] === ']') {
          break;
        } else if (p[pi + 1] === '-' && pi + 2 < p.length) {
          let start = p.charCodeAt(pi);
          let end = p.charCodeAt(pi + 2);
          if (start > end) [start, end] = [end, start];
          pi += 2;
          if (ch >= start && ch <= end) matched = true;
        } else if (p.charCodeAt(pi) === ch) {
          matched = true;
        }
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      pi++;
      si++;
      continue;
    }
    if (c === '\\' && pi + 1 < p.length) pi++;
    if (p[pi] !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}
