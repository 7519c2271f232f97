/**
 * The one logging contract of every cdc-cache process (containers on pino, Lambda on Powertools
 * Logger, see consumers/README.md "Logs"): one JSON object per line with
 *
 * - `timestamp` (ISO 8601), `level` (`debug`|`info`|`warn`|`error`), `message`, `service`;
 * - the event's own fields (`position`, `code`, `reason`, `attempt`, …), named the same everywhere;
 * - `error`: `{ name, message, code, retriable, stack, cause: { … } }`, the whole `cause` chain;
 * - platform context: containers add `pid` and `hostname`; Lambda adds `cold_start`,
 *   `function_name`, `function_request_id`, `function_arn`, `function_memory_size`, `xray_trace_id`.
 *
 * Credentials never reach a line: passwords in URLs (`valkey://user:***@host`), `password=` pairs,
 * and fields named like secrets (`password`, `token`, `secret`, `sasl`, `authorization`) are
 * replaced by `***`, in messages, error messages, stacks and causes too. No dependency: both
 * loggers call {@link toLogFields} on what they are given.
 */

/** Fields every line has. */
export const LOG_FIELDS = ['timestamp', 'level', 'message', 'service'] as const;
/** Fields a container process adds to every line. */
export const CONTAINER_CONTEXT_FIELDS = ['pid', 'hostname'] as const;
/** Fields a Lambda handler adds to every line (those it knows: X-Ray only when tracing is on). */
export const LAMBDA_CONTEXT_FIELDS = [
  'cold_start',
  'function_name',
  'function_request_id',
  'function_arn',
  'function_memory_size',
  'xray_trace_id',
] as const;

const SECRET_KEY = /^(sasl|authorization|pass)$|pass(word|wd)$|secret$|token$|credentials?$|api[-_]?key$/i;
// The password runs to the last "@" before the path, query or end of the URL (an unescaped "@" in it).
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s@/:]*):([^\s/?#"'<>]*)@/gi;
const PAIR_SECRET = /\b(password|passwd|pwd|token|secret)=([^\s&;,]+)/gi;

/** `text` with credentials replaced by `***` (URL user info passwords, `password=…` pairs). */
export function redactText(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@').replace(PAIR_SECRET, '$1=***');
}

/** An error as the contract's `error` object, with its `cause` chain (at most 8 deep). */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return toLogValue(error, depth + 1);
  const e = error as Error & { code?: unknown; retriable?: unknown; errors?: unknown };
  const out: Record<string, unknown> = { name: e.name, message: redactText(e.message) };
  if (e.code !== undefined) out.code = e.code;
  if (e.retriable !== undefined) out.retriable = e.retriable;
  if (e.stack !== undefined) out.stack = redactText(e.stack);
  if (e.cause !== undefined && depth < 8) out.cause = serializeError(e.cause, depth + 1);
  if (Array.isArray(e.errors) && depth < 8)
    out.errors = e.errors.slice(0, 10).map((x) => serializeError(x, depth + 1));
  return out;
}

function toLogValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) return serializeError(value, depth);
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (depth > 10) return '[deep]';
  if (Array.isArray(value)) return value.map((x) => toLogValue(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value))
    out[k] = SECRET_KEY.test(k) && x !== undefined && x !== null ? '***' : toLogValue(x, depth + 1);
  return out;
}

/** The fields of one line, made safe: errors serialised, secrets redacted, bigints as text. */
export function toLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  return toLogValue(fields, 0) as Record<string, unknown>;
}

/** The fields of a dead-letter log line, the same in every process. */
export function deadLetterLogFields(d: {
  position: string;
  code: string;
  reason: string;
}): Record<string, unknown> {
  return { position: d.position, code: d.code, reason: d.reason };
}
