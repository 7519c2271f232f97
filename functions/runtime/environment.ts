/**
 * The per-execution-environment state of the handlers: settings, compiled rules, the target
 * connection and the dead-letter destination, created on the first invocation and reused by every
 * later one (Lambda keeps module state between invocations of a warm environment). A failed
 * initialisation is not cached: the next invocation tries again.
 */
import { ConfigError } from '../../core/errors.ts';
import { RuleTally } from '../../core/plan/rule-tally.ts';
import { type CompiledConfig, compileConfig } from '../../core/rules/compile.ts';
import { compileInlineRules, loadRules } from '../../core/settings/shared-settings.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { createDeadLetterSink, type DeadLetterDestination, type SqsLike } from './dead-letter.ts';
import { createLogger, type Logger, type LogSink, stdoutSink } from './logger.ts';
import { openFunctionTarget } from './open-target.ts';
import { isAuthFailure, type SecretPassword, type SecretsManagerLike, secretPassword } from './secret.ts';
import { type FunctionSettings, readSettings } from './settings.ts';

/** What a warm environment holds. */
export interface FunctionRuntime {
  settings: FunctionSettings;
  config: CompiledConfig;
  /** What each rule did in this environment (metrics and findings; core/plan/rule-tally.ts). */
  rules: RuleTally;
  target: CacheTarget;
  deadLetter: DeadLetterDestination;
  log: Logger;
  /** Sink of EMF documents (stdout in Lambda). */
  metricsSink: LogSink;
  /**
   * The target refused its credentials (a rotated password): drop this runtime and the cached
   * secret, so the next invocation reads the secret again and reconnects.
   */
  authFailed(): void;
}

/** Options of {@link createEnvironment}; everything defaults to the real thing. */
export interface EnvironmentOptions {
  /** Variables to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Use this config instead of CDC_CACHE_RULES / CDC_CACHE_CONFIG. */
  config?: CompiledConfig;
  /** Use this target instead of opening CDC_CACHE_TARGET (not closed by `close()`). */
  target?: CacheTarget;
  /** Log sink. @default stdout */
  logSink?: LogSink;
  /** EMF sink. @default the log sink */
  metricsSink?: LogSink;
  /** SQS client for an SQS dead-letter queue. */
  sqs?: SqsLike;
  /** Secrets Manager client for CDC_CACHE_TARGET_PASSWORD_SECRET_ARN. @default the SDK's */
  secretsManager?: SecretsManagerLike;
}

/** Lazily initialised, reused runtime state. */
export interface Environment {
  /** The runtime, initialised on first call. */
  get(): Promise<FunctionRuntime>;
  /** Closes the target (if this environment opened it). */
  close(): Promise<void>;
}

/** A config bundled into the function by `functions/build.ts --config`. */
function bundledConfig(): unknown {
  return (globalThis as { __CDC_CACHE_BUNDLED_CONFIG__?: unknown }).__CDC_CACHE_BUNDLED_CONFIG__;
}

async function loadFunctionConfig(
  settings: FunctionSettings,
  env: EnvironmentOptions['env'],
): Promise<CompiledConfig> {
  if (settings.rules !== undefined) return compileInlineRules(settings.rules, 'CDC_CACHE_RULES');
  if (settings.configPath !== undefined) {
    const root = env?.LAMBDA_TASK_ROOT ?? process.cwd();
    return loadRules({ kind: 'path', path: settings.configPath, from: 'CDC_CACHE_CONFIG' }, root);
  }
  const bundled = bundledConfig();
  if (bundled !== undefined) return compileConfig(bundled, 'bundled config');
  throw new ConfigError(
    'no rules: set CDC_CACHE_RULES (inline JSON) or CDC_CACHE_CONFIG (path of a cdc-cache.config.json), or bundle one with functions/build.ts --config',
  );
}

/** Creates an environment; `get()` initialises it on first use. */
export function createEnvironment(options: EnvironmentOptions = {}): Environment {
  let state: Promise<FunctionRuntime> | undefined;
  let secret: SecretPassword | undefined;
  const reset = () => {
    const s = state;
    state = undefined;
    secret?.refresh();
    if (s !== undefined && options.target === undefined)
      void s.then((rt) => rt.target.close()).catch(() => {});
  };
  const init = async (): Promise<FunctionRuntime> => {
    const settings = readSettings(options.env ?? process.env);
    const logSink = options.logSink ?? stdoutSink;
    const log = createLogger({ level: settings.logLevel, sink: logSink });
    const config = options.config ?? (await loadFunctionConfig(settings, options.env));
    for (const w of config.warnings) log.warn('config warning', { warning: w });
    const deadLetter = createDeadLetterSink(settings.deadLetter, log, options.sqs);
    const spec = settings.target ?? config.target;
    const open = async (): Promise<CacheTarget> => {
      if (settings.passwordSecretArn !== undefined) {
        secret ??= secretPassword(settings.passwordSecretArn, options.secretsManager);
        settings.password = await secret.get();
      }
      return openFunctionTarget(spec, settings, log);
    };
    let target = options.target;
    if (target === undefined) {
      try {
        target = await open();
      } catch (error) {
        // A password rotated since the secret was cached: read it again, once.
        if (secret === undefined || !isAuthFailure(error)) throw error;
        log.warn('target refused the cached password; reading the secret again', { error });
        secret.refresh();
        target = await open();
      }
    }
    return {
      settings,
      config,
      rules: new RuleTally(config),
      target,
      deadLetter,
      log,
      metricsSink: options.metricsSink ?? logSink,
      authFailed: reset,
    };
  };
  return {
    get() {
      state ??= init().catch((error: unknown) => {
        state = undefined;
        throw error;
      });
      return state;
    },
    async close() {
      const s = state;
      state = undefined;
      if (s === undefined || options.target !== undefined) return;
      try {
        await (await s).target.close();
      } catch {
        // initialisation failed: nothing to close
      }
    },
  };
}

let shared: Environment | undefined;

/** The module-wide environment the exported handlers use (one per execution environment). */
export function sharedEnvironment(): Environment {
  shared ??= createEnvironment();
  return shared;
}
