/**
 * Structured logs of the container processes, on pino, in the project's one logging contract
 * (core/logging/log-contract.ts): one JSON object per line on stderr (stdout stays free for data)
 * with `timestamp`, `level`, `message`, `service`, `pid`, `hostname` and the fields given; errors
 * with stack and `cause` chain; credentials redacted. Child loggers add fixed fields (partition,
 * shard). A logger is injected everywhere; `silentLogger` is the cheap default for tests and libraries.
 */
import { hostname } from 'node:os';
import pino from 'pino';
import type { LogLevel } from '../../core/config/log-level.ts';
import { redactText, toLogFields } from '../../core/logging/log-contract.ts';

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
  /** Where lines go (each ends with a newline). @default stderr, written synchronously */
  write?: (line: string) => void;
  /** Clock for `timestamp`. @default Date.now */
  now?: () => number;
}

function wrap(p: pino.Logger): Logger {
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (fields === undefined) p[level](msg);
      else p[level](fields, msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(toLogFields(fields))),
  };
}

/** Creates a pino logger writing the contract's lines; `base` fields (e.g. `service`) go on every line. */
export function createJsonLogger(options: JsonLoggerOptions = {}, base: LogFields = {}): Logger {
  const now = options.now ?? Date.now;
  const destination =
    options.write === undefined
      ? pino.destination({ dest: 2, sync: true })
      : { write: (line: string) => options.write!(line) };
  const p = pino(
    {
      level: options.level ?? 'info',
      messageKey: 'message',
      base: { ...toLogFields(base), pid: process.pid, hostname: hostname() },
      timestamp: () => `,"timestamp":"${new Date(now()).toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => toLogFields(fields),
      },
      hooks: {
        // Messages can carry a URL or an error text: redact them like fields.
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
  return wrap(p);
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
