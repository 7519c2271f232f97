/**
 * Optional dependencies by feature. Installing `cdc-cache` alone gives the CLI's decode, replay,
 * engine and verify-from-changelog, the cache client, the testing helper and the Valkey target
 * (iovalkey is the one runtime dependency). Every other library is an optional peer dependency,
 * loaded only by the feature that needs it; using a feature without its library fails at once with
 * one line naming the packages to install (`cdc-cache consume kafka needs @platformatic/kafka, pino,
 * prom-client: npm install @platformatic/kafka pino prom-client`).
 *
 * Invariant: every package here is in package.json `peerDependencies` (optional) and
 * `devDependencies`, and every optional peer is here (test/unit/package/exports.test.ts checks it).
 */
import { CdcCacheError, ErrorCode } from './errors.ts';

/** The optional packages and the features that load them (README "Installing" has the same table). */
export const OPTIONAL_PACKAGES = {
  '@platformatic/kafka':
    'consume kafka, record kafka, verify --kafka, lambda kafka-source, dead-letters (Kafka topic): the default Kafka client',
  kafkajs: 'the same, with kafka.client "kafkajs" (CDC_CACHE_KAFKA_CLIENT=kafkajs)',
  'aws-msk-iam-sasl-signer-js': 'Kafka SASL mechanism aws-msk-iam',
  '@aws-sdk/client-dynamodb-streams':
    'consume dynamodb, record dynamodb, verify --dynamodb-stream, dead-letters redrive of on-failure records',
  '@aws-sdk/client-dynamodb':
    'verify --dynamodb-endpoint / --dynamodb-stream (DynamoDB as the truth), consume dynamodb --lease-store dynamodb (the default lease table)',
  '@aws-sdk/client-lambda': 'replay --target lambda:NAME, lambda kafka-source',
  '@aws-sdk/client-sqs':
    "the Lambda handlers' SQS dead-letter queue (the Lambda runtime ships it), dead-letters (SQS queue)",
  pg: 'verify --pg (PostgreSQL as the truth), consume --pg (replica identity checks)',
  pino: "consume kafka|dynamodb (the containers' JSON logs)",
  'prom-client': 'consume kafka|dynamodb (the /metrics endpoint)',
  '@aws-lambda-powertools/logger':
    'the Lambda handlers imported from cdc-cache/functions/*, lambda serve (the shipped bundles include it)',
  '@aws-sdk/client-secrets-manager':
    "the Lambda handlers' target password secret (the Lambda runtime ships it)",
  'aws-cdk-lib': 'cdc-cache/cdk (the CDK constructs)',
  constructs: 'cdc-cache/cdk (the CDK constructs)',
  wasmoon: 'EVAL, EVALSHA and SCRIPT LOAD on the engine server (its Lua VM, loaded on the first script)',
} as const;

/** One of the {@link OPTIONAL_PACKAGES}. */
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** What each CLI feature loads, so a missing library is reported with the others it will need. */
export const FEATURE_PACKAGES: Readonly<Record<string, readonly OptionalPackage[]>> = {
  'consume kafka': ['@platformatic/kafka', 'pino', 'prom-client'],
  // The default lease store (--lease-store dynamodb) needs the DynamoDB client too: name it now, not in a second round.
  'consume dynamodb': ['@aws-sdk/client-dynamodb-streams', '@aws-sdk/client-dynamodb', 'pino', 'prom-client'],
  'record kafka': ['@platformatic/kafka'],
  'record dynamodb': ['@aws-sdk/client-dynamodb-streams'],
  'lambda serve': ['@aws-lambda-powertools/logger'],
  'lambda kafka-source': ['@platformatic/kafka', '@aws-sdk/client-lambda'],
};

/** The packages of `names` that do not resolve from this module (i.e. are not installed). */
export function unresolvable(names: readonly string[]): string[] {
  return names.filter((name) => {
    try {
      import.meta.resolve(name);
      return false;
    } catch (error) {
      return (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    }
  });
}

/** A feature was used without its optional package installed. Not retriable: install it. */
export class MissingDependencyError extends CdcCacheError {
  /** The package to install. */
  readonly packageName: string;

  /** `packageName` may be several, space-separated (all a feature still lacks). */
  constructor(feature: string, packageName: string, cause?: unknown) {
    super(
      ErrorCode.MissingDependency,
      `${feature} needs ${packageName.split(' ').join(', ')}: npm install ${packageName}`,
      cause === undefined ? {} : { cause },
    );
    this.packageName = packageName;
  }
}

/**
 * The optional package whose absence caused `error` (a failed import of it, or of a module that
 * imports it), else undefined.
 */
export function missingOptionalPackage(error: unknown): OptionalPackage | undefined {
  const e = error as { code?: string; message?: string } | undefined;
  const message = e?.message ?? '';
  // Node: ERR_MODULE_NOT_FOUND "Cannot find package 'x' imported from …"; Vite/vitest: "Could not resolve "x" …".
  const name =
    e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND'
      ? /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1]
      : /^Could not resolve "([^"]+)"/.exec(message)?.[1];
  if (name === undefined) return undefined;
  return (Object.keys(OPTIONAL_PACKAGES) as OptionalPackage[]).find(
    (p) => name === p || name.startsWith(`${p}/`),
  );
}

/**
 * Runs `load` (a dynamic `import()` of an optional package, or of a module that imports one) and
 * turns a missing optional package into a {@link MissingDependencyError} naming `feature`, e.g.
 * `await loadOptional('verify --pg', () => import('pg'))`.
 */
export async function loadOptional<T>(feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const name = missingOptionalPackage(error);
    if (name !== undefined) throw new MissingDependencyError(feature, name, error);
    throw error;
  }
}
