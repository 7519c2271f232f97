/**
 * Structured logs: one JSON object per line on stdout (CloudWatch Logs keeps them as-is and
 * Logs Insights queries their fields). Every line of an invocation carries its `requestId`.
 * The sink is injectable so tests and `lambda serve --log-type Tail` can capture lines.
 */
import { type LogLevel, LogLevels } from './settings.ts';

/** Where log lines go (one JSON text per call, without the newline). */
export type LogSink = (line: string) => void;

/** The default sink: stdout. */
export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** A structured logger bound to some fields (function name, request id). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  with(fields: Record<string, unknown>): Logger;
}

/** Creates a logger writing lines at `level` and above to `sink`. */
export function createLogger(
  options: { level?: LogLevel; sink?: LogSink; fields?: Record<string, unknown>; now?: () => number } = {},
): Logger {
  const min = LogLevels.indexOf(options.level ?? 'info');
  const sink = options.sink ?? stdoutSink;
  const now = options.now ?? Date.now;
  const bound = options.fields ?? {};
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LogLevels.indexOf(level) < min) return;
    const line = { timestamp: new Date(now()).toISOString(), level, message, ...bound, ...fields };
    sink(JSON.stringify(line, errorReplacer));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    with: (fields) => createLogger({ ...options, fields: { ...bound, ...fields } }),
  };
}

/** Errors serialise as `{ name, code, message, retriable }` rather than `{}`. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; retriable?: unknown };
    return { name: e.name, code: e.code, message: e.message, retriable: e.retriable };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
