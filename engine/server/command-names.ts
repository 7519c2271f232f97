/**
 * The command names the server knows, registered once so the RESP parser can hand out one shared,
 * already-hashed lower-case string per known command name instead of slicing a new one per
 * request (and dispatch then looks it up without re-hashing).
 */
const commandNames = new Map<number, string>();

function nameHash(buf: Buffer | string, start: number, end: number): number {
  let h = end - start;
  for (let i = start; i < end; i++) {
    const c = typeof buf === 'string' ? buf.charCodeAt(i) : buf[i]!;
    h = (Math.imul(h, 31) + (c | 0x20)) | 0;
  }
  return h;
}

/**
 * Registers the command names the server knows, so the parser returns one shared, already-hashed
 * string for them instead of slicing (and later hashing) a new one per command.
 */
export function registerCommandNames(names: Iterable<string>): void {
  for (const name of names) {
    const lower = name.toLowerCase();
    const h = nameHash(lower, 0, lower.length);
    if (!commandNames.has(h)) commandNames.set(h, lower);
  }
}

/** The registered name spelled by `buf[start, end)` (any letter case), or undefined. */
export function commandName(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start > 24 || commandNames.size === 0) return undefined;
  const name = commandNames.get(nameHash(buf, start, end));
  if (name === undefined || name.length !== end - start) return undefined;
  for (let i = 0; i < name.length; i++) {
    const b = buf[start + i]!;
    const c = name.charCodeAt(i);
    if (b !== c && !(b >= 65 && b <= 90 && b + 32 === c)) return undefined;
  }
  return name;
}
