/**
 * Structured JSON logs: one object per line on stderr (stdout stays free for data), with `time`,
 * `level`, `msg` and the fields given. Child loggers add fixed fields (consumer, shard, partition).
 * A logger is injected everywhere; `silentLogger` is the cheap default for tests and libraries.
 */

import { type LogLevel, LogLevels } from '../../core/config/log-level.ts';

export { type LogLevel, LogLevels, parseLogLevel } from '../../core/config/log-level.ts';

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Lowest level written. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default process.stderr.write */
  write?: (line: string) => void;
  /** Clock for `time`. @default Date.now */
  now?: () => number;
}

function errorFields(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const e = value as Error & { code?: unknown; retriable?: unknown };
  return { name: e.name, message: e.message, code: e.code, retriable: e.retriable };
}

/** Creates a logger writing one JSON object per line. */
export function createJsonLogger(options: JsonLoggerOptions = {}, base: LogFields = {}): Logger {
  const min = LogLevels.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LogLevels.indexOf(level) < min) return;
    const out: LogFields = { time: new Date(now()).toISOString(), level, msg, ...base };
    if (fields !== undefined) for (const k in fields) out[k] = errorFields(fields[k]);
    write(`${JSON.stringify(out)}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createJsonLogger(options, { ...base, ...fields }),
  };
}

const noop = () => {};

/** A logger that writes nothing. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
