/**
 * Versions: source-native positions, totally ordered per key.
 *
 * A version is one or more non-negative decimal integers joined by `.`, of any size:
 * DynamoDB `SequenceNumber` ("4421584500000000017450439091"), PostgreSQL LSN ("24023128"),
 * MySQL binlog file index and position ("3.154.0"), SQL Server commit and change LSN, MongoDB
 * seconds and ordinal, or a Kafka offset as the fallback. Components compare as integers, left to
 * right; a version that is a prefix of another is the smaller.
 *
 * Targets that can only compare byte strings (Lua in Valkey, the engine's entries) store
 * `versionSortKey(v)`, whose plain byte order equals `compareVersions` order.
 */

const VERSION_RE = /^\d+(?:\.\d+)*$/;

/** The most significant digits a version component may have (targets store its length in two digits). */
export const MAX_VERSION_DIGITS = 99;

/** True when `v` is a well-formed version string. */
export function isVersion(v: string): boolean {
  return VERSION_RE.test(v);
}

function onlyDigits(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function stripZeros(component: string): string {
  let i = 0;
  while (i < component.length - 1 && component.charCodeAt(i) === 48) i++;
  return i === 0 ? component : component.slice(i);
}

/** Compares two versions as integer sequences: negative if a < b, 0 if equal, positive if a > b. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  // Hot path (planner): single-component versions without leading zeros.
  if (a.charCodeAt(0) !== 48 && b.charCodeAt(0) !== 48 && !a.includes('.') && !b.includes('.')) {
    return a.length !== b.length ? a.length - b.length : a < b ? -1 : 1;
  }
  const as = a.split('.');
  const bs = b.split('.');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const x = stripZeros(as[i]!);
    const y = stripZeros(bs[i]!);
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return as.length - bs.length;
}

/**
 * Encodes a version so that byte-wise string order equals {@link compareVersions} order:
 * each component becomes its digit count as two digits followed by its digits, joined by `.`.
 * Components longer than 99 digits are rejected.
 */
export function versionSortKey(v: string): string {
  // Hot path (one per op): a single component of 1–99 digits without a leading zero.
  const n = v.length;
  if (n > 0 && n <= MAX_VERSION_DIGITS && v.charCodeAt(0) !== 48 && onlyDigits(v)) {
    return (n < 10 ? '0' : '') + n + v;
  }
  if (!isVersion(v)) throw new TypeError(`not a version: ${JSON.stringify(v)}`);
  let out = '';
  for (const part of v.split('.')) {
    const digits = stripZeros(part);
    if (digits.length > MAX_VERSION_DIGITS)
      throw new RangeError(`version component longer than ${MAX_VERSION_DIGITS} digits: ${v}`);
    if (out !== '') out += '.';
    out += (digits.length < 10 ? '0' : '') + digits.length + digits;
  }
  return out;
}

/** Converts a hexadecimal string (SQL Server LSN parts) to its decimal digits, exactly. */
export function hexToDecimal(hex: string): string {
  return BigInt(`0x${hex === '' ? '0' : hex}`).toString(10);
}

/** Width of the counter of {@link nextAppVersion}. */
const APP_COUNTER_DIGITS = 12;

/**
 * The version (a sort key) of an app-side tag invalidation that names none
 * (docs/soft-invalidation-and-tags.md): the tag epoch's source part, `+`, and a counter one past the
 * epoch's. It sorts above the epoch and below every newer source version (`+` sorts below the `.` and
 * digits that follow a sort key's prefix), so a later change from the source still applies and a
 * redelivered older one stays fenced. The engine keeps the same rule (engine/tags.ts), which must
 * not import core/.
 */
export function nextAppVersion(epoch: string): string {
  const plus = epoch.indexOf('+');
  const base = plus < 0 ? epoch : epoch.slice(0, plus);
  const n = plus < 0 ? 0 : Number(epoch.slice(plus + 1)) || 0;
  return `${base}+${String(n + 1).padStart(APP_COUNTER_DIGITS, '0')}`;
}
