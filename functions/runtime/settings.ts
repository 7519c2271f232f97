/**
 * Function settings from the environment, validated once per execution environment. Every
 * mistake names the variable and the fix (a bad value fails the first invocation, loudly, instead
 * of a silently misconfigured stream). See functions/README.md for the table of variables.
 */
import { ConfigError } from '../../core/errors.ts';

/** What the handlers read from the environment. */
export interface FunctionSettings {
  /** CDC_CACHE_RULES: the config as inline JSON (wins over CDC_CACHE_CONFIG). */
  rules: string | undefined;
  /** CDC_CACHE_CONFIG: path of a config file (.json, or .ts/.js next to the bundle). */
  configPath: string | undefined;
  /** CDC_CACHE_TARGET: `engine`, `engine://host:port`, `valkey://…`, `valkeys://…`. @default the config's `target` */
  target: string | undefined;
  /** CDC_CACHE_TARGET_USERNAME / CDC_CACHE_TARGET_PASSWORD: AUTH for the target. */
  username: string | undefined;
  password: string | undefined;
  /** CDC_CACHE_TLS_CA_FILE: PEM bundle to trust for `valkeys://`. */
  tlsCaFile: string | undefined;
  /** CDC_CACHE_TLS_SERVERNAME: SNI / certificate name when it differs from the host. */
  tlsServername: string | undefined;
  /** CDC_CACHE_TLS_REJECT_UNAUTHORIZED=false accepts any certificate (local tests only). @default true */
  tlsRejectUnauthorized: boolean;
  /** CDC_CACHE_DEAD_LETTER: `log`, `fail`, an SQS queue URL, or a file path. @default 'log' */
  deadLetter: string;
  /** CDC_CACHE_TIME_MARGIN_MS: time kept free before the function's timeout. @default 1000 */
  timeMarginMs: number;
  /** CDC_CACHE_RETRY_ATTEMPTS: attempts per op for retriable target failures. @default 5 */
  retryAttempts: number;
  /** CDC_CACHE_RETRY_BASE_MS: first backoff, doubled per attempt. @default 50 */
  retryBaseMs: number;
  /** CDC_CACHE_METRICS_NAMESPACE: CloudWatch namespace of the EMF metrics (`off` disables them). @default 'cdc-cache' */
  metricsNamespace: string | undefined;
  /** CDC_CACHE_LOG_LEVEL: debug, info, warn, error. @default 'info' */
  logLevel: LogLevel;
}

/** Log levels, least severe first. */
export const LogLevels = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LogLevels}. */
export type LogLevel = (typeof LogLevels)[number];

/** Defaults of the settings. */
export const SETTINGS_DEFAULTS = {
  deadLetter: 'log',
  timeMarginMs: 1000,
  retryAttempts: 5,
  retryBaseMs: 50,
  metricsNamespace: 'cdc-cache',
  logLevel: 'info',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function int(env: Env, name: string, fallback: number, min: number): number {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError(
      `${name}=${v}: must be an integer >= ${min} (unset it for the default ${fallback})`,
    );
  return n;
}

/** Reads and validates the settings from `env` (default: `process.env`). */
export function readSettings(env: Env = process.env): FunctionSettings {
  const logLevel = text(env, 'CDC_CACHE_LOG_LEVEL') ?? SETTINGS_DEFAULTS.logLevel;
  if (!(LogLevels as readonly string[]).includes(logLevel))
    throw new ConfigError(`CDC_CACHE_LOG_LEVEL=${logLevel}: use one of ${LogLevels.join(', ')}`);
  const reject = text(env, 'CDC_CACHE_TLS_REJECT_UNAUTHORIZED') ?? 'true';
  if (reject !== 'true' && reject !== 'false')
    throw new ConfigError(`CDC_CACHE_TLS_REJECT_UNAUTHORIZED=${reject}: use true or false`);
  const namespace = text(env, 'CDC_CACHE_METRICS_NAMESPACE') ?? SETTINGS_DEFAULTS.metricsNamespace;
  return {
    rules: text(env, 'CDC_CACHE_RULES'),
    configPath: text(env, 'CDC_CACHE_CONFIG'),
    target: text(env, 'CDC_CACHE_TARGET'),
    username: text(env, 'CDC_CACHE_TARGET_USERNAME'),
    password: env.CDC_CACHE_TARGET_PASSWORD === '' ? undefined : env.CDC_CACHE_TARGET_PASSWORD,
    tlsCaFile: text(env, 'CDC_CACHE_TLS_CA_FILE'),
    tlsServername: text(env, 'CDC_CACHE_TLS_SERVERNAME'),
    tlsRejectUnauthorized: reject === 'true',
    deadLetter: text(env, 'CDC_CACHE_DEAD_LETTER') ?? SETTINGS_DEFAULTS.deadLetter,
    timeMarginMs: int(env, 'CDC_CACHE_TIME_MARGIN_MS', SETTINGS_DEFAULTS.timeMarginMs, 0),
    retryAttempts: int(env, 'CDC_CACHE_RETRY_ATTEMPTS', SETTINGS_DEFAULTS.retryAttempts, 1),
    retryBaseMs: int(env, 'CDC_CACHE_RETRY_BASE_MS', SETTINGS_DEFAULTS.retryBaseMs, 0),
    metricsNamespace: namespace === 'off' ? undefined : namespace,
    logLevel: logLevel as LogLevel,
  };
}
