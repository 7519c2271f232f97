/**
 * ElastiCache Serverless for Valkey as the cache target: TLS-only (serverless caches always encrypt
 * in transit), access through a user group holding one ACL user whose password is generated into
 * Secrets Manager, in the given VPC's private subnets behind a security group that admits only the
 * clients wired to it (`allowFrom`, or CacheFunction / ConsumerService through `connection`).
 *
 * The target URL is `valkeys://<endpoint>:<port>?cluster=true`: a serverless cache speaks the cluster
 * protocol, and the Valkey target groups pipelines by slot (fenced Lua ops stay single-slot).
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type CacheConnection, PASSWORD_FIELD } from './cache-connection.ts';
import { asInterface } from './jsii-interop.ts';

/** Defaults of {@link ServerlessValkey}. */
export const SERVERLESS_VALKEY_DEFAULTS = {
  majorEngineVersion: '8',
  userName: 'cdc-cache',
  /** Every key and channel, every command: the target needs EVALSHA, SCRIPT, SCAN, CLUSTER. */
  accessString: 'on ~* &* +@all',
  /** 6379 for the primary endpoint, 6380 for the reader endpoint: clients are admitted to both. */
  port: 6379,
  readerPort: 6380,
  snapshotRetentionLimit: 1,
} as const;

/** Properties of {@link ServerlessValkey}. */
export interface ServerlessValkeyProps {
  readonly vpc: ec2.IVpc;
  /** @default the VPC's private subnets (2–3 AZs) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Cache name (lowercase, digits, hyphens). @default derived from the construct path */
  readonly cacheName?: string;
  /** @default '8' */
  readonly majorEngineVersion?: string;
  /** ACL user name. @default 'cdc-cache' */
  readonly userName?: string;
  /** ACL rules of the user. @default 'on ~* &* +@all' */
  readonly accessString?: string;
  /** Upper bounds that cap cost: GB of data and ElastiCache Processing Units per second. */
  readonly usageLimits?: { readonly maxDataStorageGb?: number; readonly maxEcpuPerSecond?: number };
  /** Daily snapshots kept (0 disables). @default 1 */
  readonly snapshotRetentionLimit?: number;
  /** @default RemovalPolicy.RETAIN for the cache; the secret follows it */
  readonly removalPolicy?: RemovalPolicy;
}

/** An ElastiCache Serverless for Valkey cache with its ACL user, user group and security group. */
export class ServerlessValkey extends Construct implements ec2.IConnectable {
  readonly cache: elasticache.CfnServerlessCache;
  readonly user: elasticache.CfnUser;
  readonly userGroup: elasticache.CfnUserGroup;
  /** JSON `{ "username", "password" }` of the ACL user. */
  readonly secret: secretsmanager.Secret;
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  /** The ACL user's name. */
  readonly userName: string;

  constructor(scope: Construct, id: string, props: ServerlessValkeyProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const base = names(this);
    this.userName = props.userName ?? SERVERLESS_VALKEY_DEFAULTS.userName;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'cdc-cache Valkey (ElastiCache Serverless); ingress only from wired clients',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcpRange(SERVERLESS_VALKEY_DEFAULTS.port, SERVERLESS_VALKEY_DEFAULTS.readerPort),
    });

    this.secret = new secretsmanager.Secret(this, 'UserSecret', {
      description: `Password of the ElastiCache user "${this.userName}" (cdc-cache)`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: this.userName }),
        generateStringKey: PASSWORD_FIELD,
        // ElastiCache passwords: 16–128 printable characters, no spaces; kept URL-safe as well.
        excludePunctuation: true,
        passwordLength: 32,
      },
      removalPolicy,
    });

    this.user = new elasticache.CfnUser(this, 'User', {
      engine: 'valkey',
      userId: `${base}-user`,
      userName: this.userName,
      accessString: props.accessString ?? SERVERLESS_VALKEY_DEFAULTS.accessString,
      authenticationMode: {
        Type: 'password',
        Passwords: [this.secret.secretValueFromJson(PASSWORD_FIELD).unsafeUnwrap()],
      },
    });
    this.userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'valkey',
      userGroupId: `${base}-users`,
      userIds: [this.user.userId],
    });
    this.userGroup.node.addDependency(this.user);

    const subnets = props.vpc.selectSubnets(
      props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    );
    const limits = props.usageLimits;
    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      engine: 'valkey',
      serverlessCacheName: props.cacheName ?? base,
      description: 'cdc-cache target',
      majorEngineVersion: props.majorEngineVersion ?? SERVERLESS_VALKEY_DEFAULTS.majorEngineVersion,
      subnetIds: subnets.subnetIds,
      securityGroupIds: [this.securityGroup.securityGroupId],
      userGroupId: this.userGroup.userGroupId,
      snapshotRetentionLimit:
        props.snapshotRetentionLimit ?? SERVERLESS_VALKEY_DEFAULTS.snapshotRetentionLimit,
      ...(limits !== undefined
        ? {
            cacheUsageLimits: {
              ...(limits.maxDataStorageGb !== undefined
                ? { dataStorage: { maximum: limits.maxDataStorageGb, unit: 'GB' } }
                : {}),
              ...(limits.maxEcpuPerSecond !== undefined
                ? { ecpuPerSecond: { maximum: limits.maxEcpuPerSecond } }
                : {}),
            },
          }
        : {}),
    });
    this.cache.node.addDependency(this.userGroup);
    this.cache.applyRemovalPolicy(removalPolicy);
  }

  /** `host:port` of the cache endpoint (a token until deploy). */
  get endpoint(): string {
    return `${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;
  }

  /** What clients need: TLS URL, ACL user, password secret, and the network side to open. */
  connection(): CacheConnection {
    return {
      url: `valkeys://${this.endpoint}?cluster=true`,
      username: this.userName,
      passwordSecret: asInterface<ISecret>(this.secret),
      admit: (client, description) => this.allowFrom(client, description),
    };
  }

  /** Admits a client (a security group, a service) to the cache ports. */
  allowFrom(client: ec2.IConnectable, description = 'cdc-cache client'): void {
    this.connections.allowDefaultPortFrom(client, description);
  }
}

/** A stable, ElastiCache-valid name (lowercase, 1–40 chars) for the cache and its ids. */
function names(scope: Construct): string {
  const stack = Stack.of(scope).stackName;
  const raw = `${stack}-${scope.node.id}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const trimmed = raw.replace(/^-+|-+$/g, '').replace(/--+/g, '-');
  const withLetter = /^[a-z]/.test(trimmed) ? trimmed : `c-${trimmed}`;
  return withLetter.slice(0, 34).replace(/-+$/, '');
}
