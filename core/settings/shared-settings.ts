/**
 * The environment variables every cdc-cache process reads the same way — the Lambda handlers
 * (functions/runtime/settings.ts) and the long-running consumers (consumers/runtime/consumer-config.ts):
 *
 * | variable | meaning |
 * | --- | --- |
 * | `CDC_CACHE_RULES` | the rules config as inline JSON (wins over `CDC_CACHE_CONFIG`) |
 * | `CDC_CACHE_CONFIG` | path of a rules config file (`.json`, `.ts`, `.js`) |
 * | `CDC_CACHE_TARGET` | `engine`, `engine://host:port`, `valkey://…`, `valkeys://…` |
 * | `CDC_CACHE_TARGET_USERNAME` / `CDC_CACHE_TARGET_PASSWORD` | AUTH for the target (win over the URL's; for `replay`/`verify --target`, credentials typed in the URL win) |
 * | `CDC_CACHE_TLS_CA_FILE` | PEM bundle to trust for `valkeys://` |
 * | `CDC_CACHE_TLS_SERVERNAME` | SNI / certificate name when it differs from the host |
 * | `CDC_CACHE_TLS_REJECT_UNAUTHORIZED` | `false` accepts any certificate (local tests only) |
 *
 * Also here: loading the rules from those settings, and opening the target with AUTH and TLS from
 * them (adapters imported lazily, so a process only loads the client it uses).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import * as v from 'valibot';
import { targetSpec, targetSpecProblem } from '../config/target-spec.ts';
import { booleanText, parseConfig } from '../config/validate.ts';
import { ConfigError, ErrorCode } from '../errors.ts';
import { stripBom } from '../json/utf8.ts';
import { type CompiledConfig, compileConfig } from '../rules/compile.ts';
import { loadConfig } from '../rules/load.ts';
import type { CacheTarget } from '../targets/cache-target.ts';
import { checkEnvNames } from './env-names.ts';

/** Settings shared by the handlers and the consumers. */
export interface SharedSettings {
  /** CDC_CACHE_RULES: the rules config as inline JSON (wins over CDC_CACHE_CONFIG). */
  rules: string | undefined;
  /** CDC_CACHE_CONFIG: path of a rules config file. */
  configPath: string | undefined;
  /** CDC_CACHE_TARGET: `engine`, `engine://host:port`, `valkey://…`, `valkeys://…`. */
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
}

/** An environment to read (process.env or a test's object). */
export type Env = Readonly<Record<string, string | undefined>>;

/** The trimmed value of `name`, or undefined when unset or blank. */
export function envText(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The environment variables of {@link SharedSettings}, as a schema (blank values count as unset). */
export const sharedEnvSchema = v.object({
  CDC_CACHE_RULES: v.optional(v.string()),
  CDC_CACHE_CONFIG: v.optional(v.string()),
  CDC_CACHE_TARGET: v.optional(targetSpec()),
  CDC_CACHE_TARGET_USERNAME: v.optional(v.string()),
  CDC_CACHE_TARGET_PASSWORD: v.optional(v.string()),
  CDC_CACHE_TLS_CA_FILE: v.optional(v.string()),
  CDC_CACHE_TLS_SERVERNAME: v.optional(v.string()),
  CDC_CACHE_TLS_REJECT_UNAUTHORIZED: v.optional(booleanText(), 'true'),
});

/** `env` with blank values dropped and the others trimmed (passwords are kept as they are). */
export function presentEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(env)) {
    if (value === undefined || value.trim() === '') continue;
    out[k] = k.endsWith('_PASSWORD') ? value : value.trim();
  }
  return out;
}

/**
 * Validates `env` against `schema`; a mistake is a ConfigError naming the variable, its value
 * (passwords never) and the fix: `environment: CDC_CACHE_TARGET=valky://x: unknown target scheme …`.
 */
export function parseEnv<S extends v.GenericSchema>(schema: S, env: Env): v.InferOutput<S> {
  const present = presentEnv(env);
  return parseConfig(schema, present, 'environment', (path) =>
    path.endsWith('_PASSWORD') || present[path] === undefined ? path : `${path}=${present[path]}`,
  );
}

/** Reads and validates the shared settings from `env`. */
export function readSharedSettings(env: Env): SharedSettings {
  checkEnvNames(env);
  const e = parseEnv(sharedEnvSchema, env);
  return {
    rules: e.CDC_CACHE_RULES,
    configPath: e.CDC_CACHE_CONFIG,
    target: e.CDC_CACHE_TARGET,
    username: e.CDC_CACHE_TARGET_USERNAME,
    password: e.CDC_CACHE_TARGET_PASSWORD,
    tlsCaFile: e.CDC_CACHE_TLS_CA_FILE,
    tlsServername: e.CDC_CACHE_TLS_SERVERNAME,
    tlsRejectUnauthorized: e.CDC_CACHE_TLS_REJECT_UNAUTHORIZED,
  };
}

/** Where the rules come from: a file, or inline JSON; `from` names the flag/variable for errors. */
export type RulesSource =
  | { kind: 'path'; path: string; from: string }
  | { kind: 'inline'; json: string; from: string };

/** Compiles inline JSON rules; errors name `from` (e.g. `CDC_CACHE_RULES`). */
export function compileInlineRules(json: string, from: string): CompiledConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(stripBom(json));
  } catch (cause) {
    throw new ConfigError(`${from}: invalid JSON: ${(cause as Error).message}`, { cause });
  }
  return compileConfig(raw, from);
}

/** Loads `source`; a relative path resolves against `root` (default: the working directory). */
export async function loadRules(source: RulesSource, root = process.cwd()): Promise<CompiledConfig> {
  if (source.kind === 'inline') return compileInlineRules(source.json, source.from);
  return loadConfig(isAbsolute(source.path) ? source.path : resolve(root, source.path));
}

/** Builds the RESP URL of an `engine://` spec with AUTH from the settings. */
export function engineUrl(spec: string, settings: SharedSettings): string {
  const u = new URL(spec.replace(/^engine(s?):/, 'valkey$1:'));
  if (settings.username !== undefined) u.username = encodeURIComponent(settings.username);
  if (settings.password !== undefined) u.password = encodeURIComponent(settings.password);
  return u.toString();
}

/** AUTH and TLS options for the Valkey target from the settings (URL values lose to them). */
export function valkeyAuthAndTls(
  spec: string,
  settings: SharedSettings,
): { username?: string; password?: string; tls?: ConnectionOptions } {
  const out: { username?: string; password?: string; tls?: ConnectionOptions } = {};
  if (settings.username !== undefined) out.username = settings.username;
  if (settings.password !== undefined) out.password = settings.password;
  const custom =
    settings.tlsCaFile !== undefined ||
    settings.tlsServername !== undefined ||
    !settings.tlsRejectUnauthorized;
  if (/^(valkeys|rediss):\/\//.test(spec) || custom) {
    const tls: ConnectionOptions = { rejectUnauthorized: settings.tlsRejectUnauthorized };
    if (settings.tlsCaFile !== undefined) {
      try {
        tls.ca = readFileSync(settings.tlsCaFile);
      } catch (cause) {
        throw new ConfigError(
          `CDC_CACHE_TLS_CA_FILE=${settings.tlsCaFile}: cannot read it: ${(cause as Error).message}`,
          { cause },
        );
      }
    }
    if (settings.tlsServername !== undefined) tls.servername = settings.tlsServername;
    out.tls = tls;
  }
  return out;
}

/** What the process gives the target it opens. */
export interface TargetHooks {
  /** Receives the client library's `error` events (route them to the logger: core/logging/client-errors.ts). */
  onClientError?: (error: Error) => void;
}

/**
 * Opens the target named by `spec` with AUTH and TLS from `settings`: `engine` (in-process),
 * `engine://host:port` (the engine over RESP), `valkey://…` / `valkeys://…` (also `redis://`,
 * `rediss://`). `from` names where the spec came from in the error (`CDC_CACHE_TARGET`, `--target`).
 */
export async function openTargetWithSettings(
  spec: string,
  settings: SharedSettings,
  from = 'CDC_CACHE_TARGET',
  hooks: TargetHooks = {},
): Promise<CacheTarget> {
  const onClientError = hooks.onClientError === undefined ? {} : { onClientError: hooks.onClientError };
  if (spec === 'engine') {
    const { createEngineTarget } = await import('../targets/engine/engine-target.ts');
    return createEngineTarget();
  }
  if (/^engines?:\/\//.test(spec)) {
    const { createEngineRemoteTarget } = await import('../targets/engine-remote/engine-remote-target.ts');
    return createEngineRemoteTarget({ url: engineUrl(spec, settings), ...onClientError });
  }
  if (/^(valkeys?|rediss?):\/\//.test(spec)) {
    const { createValkeyTarget } = await import('../targets/valkey/valkey-target.ts');
    return createValkeyTarget({ url: spec, ...valkeyAuthAndTls(spec, settings), ...onClientError });
  }
  throw new ConfigError(`${from}=${spec}: ${targetSpecProblem(spec) ?? 'unknown target'}`, {
    code: ErrorCode.ConfigValue,
    path: from,
  });
}
