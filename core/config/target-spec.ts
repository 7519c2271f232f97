/**
 * The target spec every process accepts (`--target`, CDC_CACHE_TARGET, `target` in a config file):
 * `engine` (in-process), `engine://host:port`, `valkey://…`, `valkeys://…` (also `redis://`,
 * `rediss://`). Checked at the boundary, before any connection, with a did-you-mean for the scheme.
 */
import * as v from 'valibot';
import { didYouMean } from './did-you-mean.ts';

/** URL schemes a target spec may use. */
export const TARGET_SCHEMES = ['engine', 'engines', 'valkey', 'valkeys', 'redis', 'rediss'] as const;

const HOW = 'use engine, engine://host:port, valkey://host:port or valkeys://host:port';

/**
 * Why the part of an `engine://` spec after the scheme is not one: the engine server is one
 * process with one keyspace, so URL parameters (`?cluster=true`, a misspelt `?clustr=`) and a
 * database (`/3`), which the Valkey URL refuses or reads, would otherwise be dropped without a word.
 */
function engineSpecProblem(rest: string): string | undefined {
  const query = rest.indexOf('?');
  if (query >= 0)
    return `engine targets take no URL parameters (got "${rest.slice(query + 1)}"): use engine://host:port (engines:// for TLS; AUTH from CDC_CACHE_TARGET_USERNAME/PASSWORD or user:password@)`;
  const authority = rest.replace(/^[^/]*@/, '');
  const slash = authority.indexOf('/');
  const db = slash < 0 ? '' : authority.slice(slash + 1);
  if (db !== '' && db !== '0')
    return `engine targets have one keyspace, not database "${db}": use engine://host:port`;
  if (authority.slice(0, slash < 0 ? undefined : slash).includes(','))
    return 'an engine target is one server: use engine://host:port';
  return undefined;
}

/** Why `spec` is not a target spec, or undefined when it is one. */
export function targetSpecProblem(spec: string): string | undefined {
  if (spec === 'engine') return undefined;
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(spec);
  if (m === null) return `"${spec}" is not a target${didYouMean(spec, ['engine'])}; ${HOW}`;
  const scheme = m[1]!.toLowerCase();
  if (!(TARGET_SCHEMES as readonly string[]).includes(scheme))
    return `unknown target scheme "${scheme}://"${didYouMean(scheme, TARGET_SCHEMES)}; ${HOW}`;
  if (m[2] === '' || m[2]!.startsWith('/') || m[2]!.startsWith('?')) return `"${spec}" names no host; ${HOW}`;
  if (scheme === 'engine' || scheme === 'engines') return engineSpecProblem(m[2]!);
  return undefined;
}

/** Credentials in a target URL (`valkey://user:secret@h`) replaced by `***`, for messages and logs. */
export function redactTargetSpec(spec: string): string {
  // To the last "@" of the authority: an unescaped "@" in the password leaves nothing of it shown.
  return spec.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

/** The schema of a target spec (a non-empty string that {@link targetSpecProblem} accepts). */
export const targetSpec = () =>
  v.pipe(
    v.string(`must be a target spec; ${HOW}`),
    v.trim(),
    // For the JSON Schema (editors); the check below gives the precise fix.
    v.regex(
      /^(engine|[a-zA-Z][a-zA-Z0-9+.-]*:\/\/.+)$/,
      (issue) => targetSpecProblem(String(issue.input)) ?? HOW,
    ),
    v.description('engine, engine://host:port, valkey://host:port or valkeys://host:port'),
    v.check(
      (s) => targetSpecProblem(s) === undefined,
      (issue) => targetSpecProblem(String(issue.input)) ?? HOW,
    ),
  );
