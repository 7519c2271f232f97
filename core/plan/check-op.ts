/**
 * What the planner can already tell a target would refuse: an op it checks here never reaches a
 * target, so a record that renders one is a dead letter (with the reason) instead of an op the
 * target rejects permanently, which used to hold its partition or shard forever.
 *
 * - A key (or prefix) must not start with the reserved `__cdc:` prefix: those names hold the
 *   adapters' metadata (version siblings, leases, checkpoints). A template fed user data can render
 *   one; writing it would corrupt another key's fence.
 * - A version must be well-formed and every component at most 99 digits: targets store
 *   `versionSortKey(version)`, which encodes a component's length in two digits.
 */
import { ErrorCode, RuleError } from '../errors.ts';
import { isVersion, MAX_VERSION_DIGITS, versionSortKey } from '../event/version.ts';
import type { CacheOp } from '../targets/cache-op.ts';
import { RESERVED_PREFIX } from '../targets/valkey/valkey-keys.ts';

/** Throws a RuleError (never retriable) when no target could apply `op`. */
export function checkOp(op: CacheOp): void {
  // A tag is a name of its own (its state lives in `__cdc:t*` siblings), never a key.
  const key = op.kind === 'invalidatePrefix' ? op.prefix : op.kind === 'invalidateTag' ? '' : op.key;
  if (key.startsWith(RESERVED_PREFIX))
    throw new RuleError(
      ErrorCode.ReservedKey,
      `key "${key.slice(0, 80)}" starts with the reserved prefix ${RESERVED_PREFIX} (names there hold cdc-cache's metadata): give the template a literal prefix such as "user:{id}" or a keyPrefix`,
    );
  const version = op.version;
  const longest = longestComponent(version); // one pass, no regex: this runs for every op
  if (longest >= 1 && longest <= MAX_VERSION_DIGITS) return;
  if (!isVersion(version))
    throw new RuleError(ErrorCode.BadVersion, `version ${JSON.stringify(version)} is not a version`);
  try {
    versionSortKey(version); // leading zeros do not count
  } catch {
    throw new RuleError(
      ErrorCode.BadVersion,
      `version ${version.length > 60 ? `${version.slice(0, 60)}…` : version} has a component longer than ${MAX_VERSION_DIGITS} digits, which no target can order`,
    );
  }
}

/** Length of the longest `.`-separated component; 0 when a component is empty or a character is not a digit. */
function longestComponent(version: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if (c === 46) {
      if (run === 0) return 0;
      run = 0;
    } else if (c >= 48 && c <= 57) {
      if (++run > longest) longest = run;
    } else return 0;
  }
  return run === 0 ? 0 : longest;
}
