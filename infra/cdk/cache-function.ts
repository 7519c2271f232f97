/**
 * One cdc-cache Lambda handler (`dynamodb` or `kafka`), deployed from its prebuilt bundle
 * (`node functions/build.ts` → dist/functions/lambda/<name>.mjs) with the environment the handler
 * reads (functions/README.md): target URL and user in plain variables, the password's Secrets
 * Manager ARN (read by the handler at init; the function may `GetSecretValue` on it and nothing
 * else), poison records to an SQS dead-letter queue, inside the VPC.
 *
 * Invariant: the function timeout leaves room above CDC_CACHE_TIME_MARGIN_MS, so the handler always
 * answers with its partial batch response before Lambda's timeout.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { CdcCacheConfig } from '../../core/rules/config.ts';
import type { CacheConnection } from './cache-connection.ts';
import { bundleWithRules, handlerBundleDir } from './paths.ts';

/** Defaults of {@link CacheFunction}. */
export const CACHE_FUNCTION_DEFAULTS = {
  memorySize: 512,
  timeoutSeconds: 60,
  timeMarginMs: 5000,
  logRetention: logs.RetentionDays.ONE_MONTH,
} as const;

/** Properties of {@link CacheFunction}. */
export interface CacheFunctionProps {
  /** Which handler: the DynamoDB Streams one or the Kafka (MSK / self-managed) one. */
  readonly handler: 'dynamodb' | 'kafka';
  /** Where the cache is. */
  readonly cache: CacheConnection;
  /** The rules, inline (`CDC_CACHE_RULES`; Lambda environments are limited to 4 KB in total).
   *  @default the config embedded in the bundle (`node functions/build.ts --config FILE`) */
  readonly rules?: CdcCacheConfig;
  /** A JSON rules file embedded in a copy of the prebuilt bundle (validated at synth; no build
   *  step, no 4 KB environment limit). @default the rules from `rules`, else the bundle's own */
  readonly rulesFile?: string;
  /** The handler code: a folder whose `<handler>.mjs` exports `handler` (Lambda handler
   *  `<handler>.handler`). @default the package's prebuilt bundle folder (dist/functions/lambda) */
  readonly code?: lambda.Code;
  /** VPC to run in (needed to reach ElastiCache). @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Poison records (cannot be decoded or planned): `sqs` (a queue made here), `log` or `fail`. @default 'sqs' */
  readonly deadLetter?: 'sqs' | 'log' | 'fail';
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 60 seconds */
  readonly timeout?: Duration;
  /** Extra environment variables (CDC_CACHE_LOG_LEVEL, CDC_CACHE_RETRY_ATTEMPTS, …). */
  readonly environment?: Record<string, string>;
  /** @default ARM_64 */
  readonly architecture?: lambda.Architecture;
}

/** A cdc-cache Lambda handler with its log group, security group and poison-record queue. */
export class CacheFunction extends Construct {
  /** The function. */
  readonly function: lambda.Function;
  /** Poison records, when `deadLetter` is `sqs`. */
  readonly deadLetterQueue: sqs.Queue | undefined;
  /** The function's security group, when in a VPC. */
  readonly securityGroup: ec2.SecurityGroup | undefined;

  constructor(scope: Construct, id: string, props: CacheFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(CACHE_FUNCTION_DEFAULTS.timeoutSeconds);
    if (timeout.toMilliseconds() <= CACHE_FUNCTION_DEFAULTS.timeMarginMs * 2)
      throw new Error(
        `${this.node.path}: timeout must be above ${CACHE_FUNCTION_DEFAULTS.timeMarginMs * 2} ms`,
      );

    const environment: Record<string, string> = {
      CDC_CACHE_TARGET: props.cache.url,
      CDC_CACHE_TIME_MARGIN_MS: String(CACHE_FUNCTION_DEFAULTS.timeMarginMs),
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.cache.username !== undefined) environment.CDC_CACHE_TARGET_USERNAME = props.cache.username;
    if (props.cache.passwordSecret !== undefined)
      // Only the secret's ARN: the handler reads the password at init (functions/runtime/secret.ts),
      // so it is never in the function's configuration (lambda:GetFunctionConfiguration shows it).
      environment.CDC_CACHE_TARGET_PASSWORD_SECRET_ARN = props.cache.passwordSecret.secretArn;
    if (props.rules !== undefined) environment.CDC_CACHE_RULES = JSON.stringify(props.rules);

    const deadLetter = props.deadLetter ?? 'sqs';
    if (deadLetter === 'sqs') {
      this.deadLetterQueue = new sqs.Queue(this, 'PoisonRecords', {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      environment.CDC_CACHE_DEAD_LETTER = this.deadLetterQueue.queueUrl;
    } else {
      this.deadLetterQueue = undefined;
      environment.CDC_CACHE_DEAD_LETTER = deadLetter;
    }

    if (props.vpc !== undefined) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `cdc-cache ${props.handler} handler`,
        allowAllOutbound: true,
      });
    } else {
      this.securityGroup = undefined;
    }

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: CACHE_FUNCTION_DEFAULTS.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      handler: `${props.handler}.handler`,
      code:
        props.code ??
        lambda.Code.fromAsset(
          props.rulesFile === undefined
            ? handlerBundleDir(props.handler)
            : bundleWithRules(props.handler, props.rulesFile),
        ),
      memorySize: props.memorySize ?? CACHE_FUNCTION_DEFAULTS.memorySize,
      timeout,
      environment: { ...environment, ...props.environment },
      logGroup,
      description: `cdc-cache ${props.handler} change-stream handler`,
      ...(props.vpc !== undefined && this.securityGroup !== undefined
        ? {
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: [this.securityGroup],
          }
        : {}),
    });
    this.deadLetterQueue?.grantSendMessages(this.function);
    props.cache.passwordSecret?.grantRead(this.function);
    if (this.securityGroup !== undefined)
      props.cache.admit?.(this.securityGroup, `cdc-cache ${props.handler} handler`);
  }
}
