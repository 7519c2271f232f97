/**
 * Config validation at the boundary, on one schema library for every input (rules shape, consumer
 * config, deploy config, environment variables, CLI flags): valibot. Chosen over zod 4 for install
 * size: valibot 1.5 unpacks to 1.9 MB and is tree-shaken to the few validators a bundle uses; zod
 * 4.6 unpacks to 6.3 MB (it ships v3, v4 and mini), more than the whole core install budget (5 MB).
 * Both implement Standard Schema; JSON Schemas come from `@valibot/to-json-schema` (schemas/).
 *
 * `parseConfig` turns the first issue into a {@link ConfigError}: one line naming the source, the
 * path and the fix, with a did-you-mean for unknown options and a stable code per kind of mistake.
 */
import * as v from 'valibot';
import { ConfigError, type ConfigErrorCode, ErrorCode } from '../errors.ts';
import { didYouMean } from './did-you-mean.ts';

/** Any valibot schema (sync). */
export type AnySchema = v.GenericSchema;

type Node = { type?: string; entries?: Record<string, Node>; wrapped?: Node; options?: Node[]; item?: Node };

/** The option names an object schema at `path` accepts (unions: every option's names). */
function knownKeys(schema: Node, path: readonly PropertyKey[]): string[] {
  let nodes: Node[] = [schema];
  const expand = (list: Node[]): Node[] =>
    list.flatMap((n) => {
      if (n.wrapped !== undefined) return expand([n.wrapped]);
      if (n.options !== undefined) return expand(n.options);
      return [n];
    });
  for (const key of path) {
    nodes = expand(nodes).flatMap((n) => {
      if (typeof key === 'number' && n.item !== undefined) return [n.item];
      const child = typeof key === 'string' ? n.entries?.[key] : undefined;
      return child === undefined ? [] : [child];
    });
  }
  return [...new Set(expand(nodes).flatMap((n) => Object.keys(n.entries ?? {})))];
}

/** `kafka.brokers[0]` from an issue's path. */
export function issuePath(keys: readonly PropertyKey[]): string {
  let out = '';
  for (const k of keys) out += typeof k === 'number' ? `[${k}]` : out === '' ? String(k) : `.${String(k)}`;
  return out === '' ? '(root)' : out;
}

/** One issue as a path, the fix, and the code of its kind. */
export function describeIssue(
  schema: AnySchema,
  issue: v.BaseIssue<unknown>,
): { path: string; message: string; code: ConfigErrorCode } {
  const keys = (issue.path ?? []).map((p) => p.key as PropertyKey);
  const path = issuePath(keys);
  const last = issue.path?.[issue.path.length - 1];
  if ((issue.type === 'strict_object' || issue.type === 'object') && last?.origin === 'key') {
    if (issue.input === undefined && issue.expected !== 'never')
      return { path, message: 'missing required option', code: ErrorCode.ConfigMissing };
    const known = knownKeys(schema as Node, keys.slice(0, -1));
    return {
      path,
      message: `unknown option${didYouMean(String(last.key), known)}; known: ${known.join(', ')}`,
      code: ErrorCode.ConfigUnknownOption,
    };
  }
  const code = issue.kind === 'schema' ? ErrorCode.ConfigType : ErrorCode.ConfigValue;
  const message = issue.message.replace(/^Invalid \w+: /, '');
  return { path, message, code };
}

/**
 * Validates `input` against `schema`; on failure throws a ConfigError `${source}: ${path}: ${fix}`.
 * `name(path)` renames the path for messages (environment: `CDC_CACHE_TARGET=valky://x`).
 */
export function parseConfig<S extends AnySchema>(
  schema: S,
  input: unknown,
  source: string,
  name: (path: string, issue: v.BaseIssue<unknown>) => string = (p) => p,
): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const { path, message, code } = describeIssue(schema, issue);
  const where = name(path, issue);
  // The value is shown once: unless the path already carries it (`CDC_CACHE_TARGET=valky://x`) or
  // the fix names it, ", got …" follows (objects and arrays are not repeated).
  const got = issue.received;
  const show = where === path && !['Array', 'Object', 'undefined'].includes(got) && !message.includes(got);
  throw new ConfigError(`${source}: ${where}: ${message}${show ? `, got ${got}` : ''}`, {
    code,
    file: source,
    path,
  });
}

/** A non-empty string. */
export const text = (what = 'a non-empty string') =>
  v.pipe(v.string(`must be ${what}`), v.minLength(1, `must be ${what}`));

/** An integer ≥ `min` (and ≤ `max`). */
export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.number(`must be an integer >= ${min}`),
    v.integer(`must be an integer >= ${min}`),
    v.minValue(min, `must be an integer >= ${min}`),
    v.maxValue(max, `must be an integer <= ${max}`),
  );

/** An integer given as text (environment variables, flags), converted to a number. */
export const integerText = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.string(`must be an integer >= ${min}`),
    v.trim(),
    v.regex(/^-?\d+$/, `must be an integer >= ${min}`),
    v.transform(Number),
    integer(min, max),
  );

/** One of `values`. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  v.picklist(values, `must be one of ${values.join(', ')}`);

/** `true` or `false` given as text. */
export const booleanText = () =>
  v.pipe(
    v.string('must be true or false'),
    v.trim(),
    v.picklist(['true', 'false'], 'must be true or false'),
    v.transform((s) => s === 'true'),
  );

/** A list of strings, or (documented) one comma-separated string: `"h1:9092,h2:9092"`. */
export const stringList = (what = 'a list of strings') =>
  v.pipe(
    v.union(
      [v.array(v.string(`must be ${what}`)), v.string()],
      `must be ${what} (or one comma-separated string)`,
    ),
    v.transform((x) =>
      (typeof x === 'string' ? x.split(',') : x).map((s) => s.trim()).filter((s) => s !== ''),
    ),
  );
