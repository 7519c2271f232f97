/**
 * Typed errors shared by every part of cdc-cache.
 *
 * Every error carries a stable `code` (for logs, metrics and dead-letter headers) and `retriable`,
 * which decides the path a failure takes: retriable → retry with backoff and do not advance the
 * checkpoint; not retriable → dead-letter the record and move on. Programming errors are never retried.
 */

/** Stable error codes. Add new ones; never change the meaning of an existing one. */
export const ErrorCode = {
  /** Input is not valid JSON (truncated line, stray bytes). */
  BadJson: 'E_BAD_JSON',
  /** JSON parsed, but the document is not a record shape we know. */
  BadShape: 'E_BAD_SHAPE',
  /** A change record names an operation we do not know. */
  UnknownOp: 'E_UNKNOWN_OP',
  /** A required field of a change record is missing or of the wrong type. */
  MissingField: 'E_MISSING_FIELD',
  /** A key template names a field that the change's image lacks (or is null). */
  TemplateField: 'E_TEMPLATE_FIELD',
  /** A template or filter needs a field the source did not really capture (partial image). */
  PartialImage: 'E_PARTIAL_IMAGE',
  /** A projection or `when` function threw. */
  RuleFunction: 'E_RULE_FUNCTION',
  /** The configuration is invalid (a semantic check; see the more precise codes below). */
  Config: 'E_CONFIG',
  /** A config file, variable or flag names an option that does not exist (a typo). */
  ConfigUnknownOption: 'E_CONFIG_UNKNOWN_OPTION',
  /** A config value has the wrong type (a string where a list is expected, …). */
  ConfigType: 'E_CONFIG_TYPE',
  /** A required config option is missing (a consumer without a target, …). */
  ConfigMissing: 'E_CONFIG_MISSING',
  /** A config value has the right type but is out of range or not one of the allowed values. */
  ConfigValue: 'E_CONFIG_VALUE',
  /** A config file cannot be read or is not valid JSON. */
  ConfigFile: 'E_CONFIG_FILE',
  /** A command-line usage error. */
  Usage: 'E_USAGE',
  /** The cache target failed (connection, timeout, server error). */
  Target: 'E_TARGET',
  /** A stored dead letter (queue message, topic message, file line) is not a shape cdc-cache writes. */
  DeadLetterUnreadable: 'E_DEAD_LETTER_UNREADABLE',
  /** A dead letter points at stream records the stream no longer retains (older than its retention). */
  AgedOut: 'E_AGED_OUT',
  /** A feature's optional package is not installed (the message names it and the install command). */
  MissingDependency: 'E_MISSING_DEPENDENCY',
  /** A rendered key starts with the reserved `__cdc:` prefix. */
  ReservedKey: 'E_RESERVED_KEY',
  /** A version is malformed or has a component no target can order (over 99 digits). */
  BadVersion: 'E_BAD_VERSION',
  /** The target refused an op permanently (not retriable): its records are dead letters. */
  Rejected: 'E_REJECTED',
  /** Bytes that are not valid UTF-8 where text is expected. */
  BadUtf8: 'E_BAD_UTF8',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options common to every cdc-cache error. */
export interface CdcCacheErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Whether retrying the same input may succeed. @default false */
  retriable?: boolean;
}

/** Base class of every error cdc-cache throws on purpose. */
export class CdcCacheError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCodeValue;
  /** True when the same input may succeed later (target outage); false for bad input. */
  readonly retriable: boolean;

  constructor(code: ErrorCodeValue, message: string, options: CdcCacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A source record could not be decoded into a ChangeEvent. Never retriable: dead-letter it. */
export class DecodeError extends CdcCacheError {
  /** Where the record came from, for example `orders.jsonl:12` or `inventory.customers/0@42`. */
  readonly position: string | undefined;

  constructor(
    code: ErrorCodeValue,
    message: string,
    options: CdcCacheErrorOptions & { position?: string } = {},
  ) {
    super(code, message, options);
    this.position = options.position;
  }
}

/** A ChangeEvent could not be turned into cache operations by the rules. Never retriable. */
export class RuleError extends CdcCacheError {}

/**
 * A rule needs a field that the event's image does not really carry (a partial image). The message
 * names the source setting to fix; `field` and `image` say what was missing where.
 */
export class PartialImageError extends RuleError {
  readonly field: string;
  readonly image: 'before' | 'after';

  constructor(message: string, field: string, image: 'before' | 'after') {
    super(ErrorCode.PartialImage, message);
    this.field = field;
    this.image = image;
  }
}

/** The config error codes ({@link ErrorCode}`.Config*`). */
export type ConfigErrorCode =
  | typeof ErrorCode.Config
  | typeof ErrorCode.ConfigUnknownOption
  | typeof ErrorCode.ConfigType
  | typeof ErrorCode.ConfigMissing
  | typeof ErrorCode.ConfigValue
  | typeof ErrorCode.ConfigFile;

/** Options of a {@link ConfigError}: where the mistake is, for tools that point at it. */
export interface ConfigErrorOptions extends CdcCacheErrorOptions {
  /** @default 'E_CONFIG' */
  code?: ConfigErrorCode;
  /** The file, variable or flag source (`consumer.json`, `environment`, `command line`). */
  file?: string;
  /** The option's path in it (`kafka.groupId`, `CDC_CACHE_TARGET`, `--http-port`). */
  path?: string;
}

/**
 * The configuration is invalid; the message is one line naming the file, the path and the fix
 * (`consumer.json: kafka.groupID: unknown option (did you mean "groupId"?)`). Never retriable.
 */
export class ConfigError extends CdcCacheError {
  /** The file, variable set or command line the mistake is in, when known. */
  readonly file: string | undefined;
  /** The option's path, when known. */
  readonly path: string | undefined;

  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(options.code ?? ErrorCode.Config, message, { ...options, retriable: false });
    this.file = options.file;
    this.path = options.path;
  }
}

/** The cache target failed. Retriable unless the server rejected the operation itself. */
export class TargetError extends CdcCacheError {
  constructor(message: string, options: CdcCacheErrorOptions = {}) {
    super(ErrorCode.Target, message, { retriable: true, ...options });
  }
}

/** True for any error that is safe to retry (carries `retriable: true`). */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}
