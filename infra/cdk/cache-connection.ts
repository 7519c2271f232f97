/**
 * How a Lambda function or a Fargate task reaches the cache: a target URL without credentials, the
 * ACL user, and the Secrets Manager secret holding its password. The URL and the user go into plain
 * environment variables; the password only ever travels as a secret: its ARN for Lambda (read at
 * init, IAM read grant), ECS secret injection for Fargate tasks.
 */
import type { IConnectable } from 'aws-cdk-lib/aws-ec2';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';

/** What a client needs to reach the cache target. */
export interface CacheConnection {
  /** `CDC_CACHE_TARGET` without credentials: `valkeys://host:port?cluster=true`, `engine://host:port`. */
  readonly url: string;
  /** ACL user (`CDC_CACHE_TARGET_USERNAME`). @default none (the URL's, or `default`) */
  readonly username?: string;
  /** Secret whose JSON field `password` is the user's password (Lambda: CDC_CACHE_TARGET_PASSWORD_SECRET_ARN; Fargate: CDC_CACHE_TARGET_PASSWORD injected). */
  readonly passwordSecret?: ISecret;
  /** Opens the cache's ports to a client (its security group gets an ingress rule). @default nothing to open */
  readonly admit?: (client: IConnectable, description: string) => void;
}

/** The JSON field of {@link CacheConnection.passwordSecret} that holds the password. */
export const PASSWORD_FIELD = 'password';
