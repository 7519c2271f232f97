/**
 * "Did you mean" for misspelt names, the one implementation the repository uses (config validation,
 * rules, environment names, table names, and the CLI's flags in bin/option-table.ts; engine/ may
 * import nothing from here and needs none): the closest known name by case-insensitive match, then
 * by optimal-string-alignment distance (a swap of two letters counts once: `kyes` → `keys`), then
 * by shared letters (the rules compiler's original heuristic, kept so its messages do not regress).
 */

/**
 * Edit distance between two short names: insertions, deletions, substitutions and swaps of two
 * adjacent letters each count once (optimal string alignment).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `name`, or undefined when none is close enough to suggest. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const names = [...known];
  const lower = name.toLowerCase();
  const exact = names.find((k) => k.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  for (const k of names) {
    const dist = editDistance(lower, k.toLowerCase());
    if (dist <= bestDistance && (best === undefined || dist < bestDistance)) {
      best = k;
      bestDistance = dist;
    }
  }
  if (best !== undefined) return best;
  let bestScore = 0.5;
  for (const k of names) {
    let common = 0;
    for (const ch of new Set(name)) if (k.includes(ch)) common++;
    const score = common / Math.max(k.length, name.length);
    if (score > bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or `''` when no known name is close. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const best = closestName(name, known);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** The known name within `maxEdits` edits of `name` (letters swapped count once), or undefined. */
export function closestByEdits(name: string, known: Iterable<string>, maxEdits = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxEdits + 1;
  for (const k of known) {
    const dist = editDistance(name.toLowerCase(), k.toLowerCase());
    if (dist < bestDistance) {
      best = k;
      bestDistance = dist;
    }
  }
  return best;
}

/**
 * The command-line option nearest to `name`: the smallest edit distance within a third of its
 * length (at least 2), else the option it abbreviates (`--proto-max` → `proto-max-bulk-len`);
 * undefined when nothing is near.
 */
export function closestOption(name: string, known: Iterable<string>): string | undefined {
  const names = [...known];
  return (
    closestByEdits(name, names, Math.max(2, Math.ceil(name.length / 3))) ??
    (name.length >= 3 ? names.find((k) => k.startsWith(name)) : undefined)
  );
}
