/**
 * The checks of single config values (compile.ts): each returns the value compiled or throws a
 * ConfigError naming the file, the config path and the fix.
 */
import { didYouMean } from '../config/did-you-mean.ts';
import { ConfigError, type ConfigErrorCode, ErrorCode } from '../errors.ts';
import type { CompiledPartialPolicy } from './compiled-config.ts';
import { type Action, Actions, CONFIG_DEFAULTS } from './config.ts';
import { compileTemplate, type Template, TemplateSyntaxError } from './template.ts';

const PARTIAL_POLICIES = ['dead-letter', 'ignore'];

/** The same error shape as every config input: `${file}: ${path}: ${fix}`, with a stable code. */
export function fail(
  where: string,
  path: string,
  message: string,
  code: ConfigErrorCode = ErrorCode.ConfigValue,
): never {
  throw new ConfigError(`${where}: ${path}: ${message}`, { code, file: where, path });
}

/** Refuses an option of `obj` not in `known`, with did-you-mean and the known ones. */
export function checkKeys(obj: object, known: Set<string>, where: string, path: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.has(k))
      fail(
        where,
        `${path}${path ? '.' : ''}${k}`,
        `unknown option${didYouMean(k, known)}; known: ${[...known].join(', ')}`,
        ErrorCode.ConfigUnknownOption,
      );
  }
}

/** True when `v` is a list of strings. */
export function isStrArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** A key, dependent or tag template parsed; a syntax error names the path. */
export function template(source: unknown, where: string, path: string): Template {
  if (typeof source !== 'string') fail(where, path, 'must be a template string such as "user:{id}"');
  try {
    return compileTemplate(source);
  } catch (e) {
    if (e instanceof TemplateSyntaxError)
      fail(where, path, `template ${JSON.stringify(source)} ${e.message}`);
    throw e;
  }
}

/** A number of seconds >= 0 (a TTL). */
export function seconds(v: unknown, where: string, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    fail(where, path, 'must be a number of seconds >= 0');
  return v;
}

/** A TTL jitter: a fraction in [0, 1). */
export function jitter(v: unknown, where: string, path: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1))
    fail(where, path, 'must be a fraction in [0, 1), e.g. 0.1 for up to 10% shorter');
  return v;
}

/** `onPartialImage` compiled, its prefixes under `prefix` (the config's and the rule's). */
export function partialPolicy(
  v: unknown,
  prefix: string,
  where: string,
  path: string,
): CompiledPartialPolicy {
  const fix = 'must be "dead-letter", "ignore" or { invalidatePrefix: "customer:" }';
  if (v === undefined) return { kind: CONFIG_DEFAULTS.onPartialImage as 'dead-letter' };
  if (typeof v === 'string') {
    if (v === 'dead-letter' || v === 'ignore') return { kind: v };
    fail(where, path, `${fix}${didYouMean(v, PARTIAL_POLICIES)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, path, fix);
  checkKeys(v, new Set(['invalidatePrefix']), where, path);
  const raw = (v as { invalidatePrefix?: unknown }).invalidatePrefix;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!isStrArray(list) || list.length === 0)
    fail(
      where,
      `${path}.invalidatePrefix`,
      'must be a key prefix or a non-empty list of them, e.g. "customer:"',
    );
  if (list.some((x) => prefix + x === ''))
    fail(
      where,
      `${path}.invalidatePrefix`,
      'an empty prefix would invalidate every key: name the prefix of the keys the image cannot build, e.g. "customer:"',
    );
  return { kind: 'prefix', prefixes: list.map((x) => prefix + x) };
}

/** One of the rule actions. */
export function action(v: unknown, where: string, path: string): Action {
  if (typeof v !== 'string' || !(Actions as readonly string[]).includes(v))
    fail(where, path, `must be one of ${Actions.join(', ')}`);
  return v as Action;
}
