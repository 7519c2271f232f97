/**
 * The log levels every process accepts (CDC_CACHE_LOG_LEVEL, `--log-level`, `log.level`), parsed
 * once here for the consumers, the Lambda handlers and the CLI.
 */
import * as v from 'valibot';
import { ConfigError, ErrorCode } from '../errors.ts';
import { didYouMean } from './did-you-mean.ts';

/** Log levels, least severe first. */
export const LogLevels = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LogLevels}. */
export type LogLevel = (typeof LogLevels)[number];

const fix = (value: unknown) =>
  `log level ${JSON.stringify(value)}${typeof value === 'string' ? didYouMean(value, LogLevels) : ''} is not one of ${LogLevels.join(', ')}`;

/** The schema of a log level (case-insensitive; `WARNING` is not accepted: use `warn`). */
export const logLevel = () =>
  v.pipe(
    v.string((i) => fix(i.input)),
    v.trim(),
    v.toLowerCase(),
    v.picklist(LogLevels, (i) => fix(i.input)),
  );

/** Parses a level name; `where` names its source (`CDC_CACHE_LOG_LEVEL`) in the ConfigError. */
export function parseLogLevel(value: string, where = 'log level'): LogLevel {
  const r = v.safeParse(logLevel(), value);
  if (r.success) return r.output;
  throw new ConfigError(`${where}: ${fix(value)}`, { code: ErrorCode.ConfigValue, path: where });
}
