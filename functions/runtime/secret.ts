/**
 * The cache password from AWS Secrets Manager (CDC_CACHE_TARGET_PASSWORD_SECRET_ARN), read at
 * initialisation and cached for the execution environment, so the password never sits in the
 * function's environment (readable with lambda:GetFunctionConfiguration). Read again when the
 * target refuses it (a rotated password): `refresh()` drops the cached value.
 * The secret is either JSON with a `password` field (what the CDK constructs make) or the password
 * itself (also one that starts with `{` but is not JSON); a secret's text never appears
 * in an error. `@aws-sdk/client-secrets-manager` is in the Lambda runtime, loaded only when used.
 */
import { ConfigError, ErrorCode } from '../../core/errors.ts';
import { loadOptional } from '../../core/optional-dependency.ts';

/** Structural Secrets Manager client: anything with the SDK's `send(GetSecretValueCommand)`. */
export interface SecretsManagerLike {
  send(command: unknown): Promise<{ SecretString?: string | undefined }>;
}

/** A cached secret password. */
export interface SecretPassword {
  /** The password (fetched once, then cached). */
  get(): Promise<string>;
  /** Forgets the cached value: the next `get()` reads the secret again. */
  refresh(): void;
}

/** The JSON field holding the password (as infra/cdk/cache-connection.ts writes it). */
export const SECRET_PASSWORD_FIELD = 'password';

function passwordOf(arn: string, text: string | undefined): string {
  if (text === undefined || text === '')
    throw new ConfigError(`CDC_CACHE_TARGET_PASSWORD_SECRET_ARN=${arn}: the secret has no SecretString`, {
      code: ErrorCode.ConfigValue,
      path: 'CDC_CACHE_TARGET_PASSWORD_SECRET_ARN',
    });
  if (!text.trimStart().startsWith('{')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A password may itself start with `{` (generated ones do): not JSON, so the password itself,
    // unless it names the field (JSON gone wrong). The parser's message quotes the secret: dropped.
    if (!text.includes(`"${SECRET_PASSWORD_FIELD}"`)) return text;
    throw new ConfigError(
      `CDC_CACHE_TARGET_PASSWORD_SECRET_ARN=${arn}: the secret names "${SECRET_PASSWORD_FIELD}" but is not valid JSON (its text is not shown); fix the secret's value`,
      { code: ErrorCode.ConfigValue, path: 'CDC_CACHE_TARGET_PASSWORD_SECRET_ARN' },
    );
  }
  const v = (parsed as Record<string, unknown>)[SECRET_PASSWORD_FIELD];
  if (typeof v !== 'string' || v === '')
    throw new ConfigError(
      `CDC_CACHE_TARGET_PASSWORD_SECRET_ARN=${arn}: the secret's JSON has no "${SECRET_PASSWORD_FIELD}" string`,
      { code: ErrorCode.ConfigValue, path: 'CDC_CACHE_TARGET_PASSWORD_SECRET_ARN' },
    );
  return v;
}

/** A reader of the secret `arn`, cached until `refresh()`; `client` defaults to the SDK's. */
export function secretPassword(arn: string, client?: SecretsManagerLike): SecretPassword {
  let cached: Promise<string> | undefined;
  const fetch = async () => {
    const sdk = await loadOptional(
      'the target password secret',
      () => import('@aws-sdk/client-secrets-manager'),
    );
    const c: SecretsManagerLike = client ?? new sdk.SecretsManagerClient({});
    const out = await c.send(new sdk.GetSecretValueCommand({ SecretId: arn }));
    return passwordOf(arn, out.SecretString);
  };
  return {
    get() {
      cached ??= fetch().catch((error: unknown) => {
        cached = undefined;
        throw error;
      });
      return cached;
    },
    refresh() {
      cached = undefined;
    },
  };
}

/** True for a target error that says the credentials were refused (rotated password). */
export function isAuthFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (/WRONGPASS|NOAUTH|invalid username-password|AUTH failed/i.test(e.message)) return true;
  return false;
}
