/**
 * How to reach the brokers: brokers, TLS and SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER, and AWS
 * MSK IAM). Validated once, at the edge, with the fix in the message. Only plaintext runs in this
 * repository's tests; the rest is passed through to the client unchanged (see consumers/README.md).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';

/** TLS: `true` for the system CAs, or files for a private CA / mutual TLS. */
export type KafkaTlsOptions =
  | boolean
  | {
      /** PEM file of the CA(s) to trust. */
      caFile?: string;
      /** PEM client certificate (mutual TLS). */
      certFile?: string;
      /** PEM client key (mutual TLS). */
      keyFile?: string;
      /** @default true */
      rejectUnauthorized?: boolean;
      /** TLS server name (SNI) override. */
      servername?: string;
    };

/** SASL authentication. */
export type KafkaSaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  /** AWS MSK IAM: tokens from the optional package `aws-msk-iam-sasl-signer-js` (install it in the image). */
  | { mechanism: 'aws-msk-iam'; region: string }
  /** OAUTHBEARER with a static token (for tests) or a provider (library use). */
  | { mechanism: 'oauthbearer'; token?: string; provider?: () => Promise<{ value: string }> };

/** Connection options shared by consumers and producers. */
export interface KafkaConnectionOptions {
  brokers: readonly string[];
  /** @default 'cdc-cache' */
  clientId?: string;
  /** TLS; MSK IAM implies TLS. @default false */
  ssl?: KafkaTlsOptions;
  sasl?: KafkaSaslOptions;
  /** @default 10000 */
  connectionTimeoutMs?: number;
}

const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam', 'oauthbearer'];

/** Validates connection options (brokers `host:port`, complete SASL settings). */
export function validateConnectionOptions(
  o: KafkaConnectionOptions,
  where = 'kafka',
): KafkaConnectionOptions {
  if (o.brokers.length === 0) throw new ConfigError(`${where}.brokers: give at least one "host:port"`);
  for (const b of o.brokers) {
    if (!/^[^\s:]+:\d+$/.test(b)) throw new ConfigError(`${where}.brokers: "${b}" is not "host:port"`);
  }
  const sasl = o.sasl;
  if (sasl !== undefined) {
    if (!SASL_MECHANISMS.includes(sasl.mechanism)) {
      throw new ConfigError(
        `${where}.sasl.mechanism: "${sasl.mechanism}" is not one of ${SASL_MECHANISMS.join(', ')}`,
      );
    }
    if (
      (sasl.mechanism === 'plain' || sasl.mechanism.startsWith('scram')) &&
      (!('username' in sasl) || !sasl.username || !('password' in sasl) || !sasl.password)
    ) {
      throw new ConfigError(`${where}.sasl: ${sasl.mechanism} needs username and password`);
    }
    if (sasl.mechanism === 'aws-msk-iam' && !sasl.region) {
      throw new ConfigError(`${where}.sasl: aws-msk-iam needs region (or AWS_REGION)`);
    }
  }
  return o;
}

/** Reads the PEM files of TLS options into the shape node:tls takes. */
export function tlsFromFiles(
  ssl: KafkaTlsOptions | undefined,
): boolean | Record<string, unknown> | undefined {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl;
  const out: Record<string, unknown> = { rejectUnauthorized: ssl.rejectUnauthorized ?? true };
  if (ssl.caFile !== undefined) out.ca = [readFileSync(ssl.caFile, 'utf8')];
  if (ssl.certFile !== undefined) out.cert = readFileSync(ssl.certFile, 'utf8');
  if (ssl.keyFile !== undefined) out.key = readFileSync(ssl.keyFile, 'utf8');
  if (ssl.servername !== undefined) out.servername = ssl.servername;
  return out;
}
