/**
 * Our Kafka connection options ({@link KafkaConnectionOptions}) mapped onto `@platformatic/kafka`'s
 * client options: brokers, clientId, connect timeout, TLS and SASL.
 *
 * TLS: `true`, or CA/cert/key files, `rejectUnauthorized`, `servername`. SASL: PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512, OAUTHBEARER (static token or provider) and AWS MSK IAM (OAUTHBEARER with tokens
 * from `aws-msk-iam-sasl-signer-js`, implies TLS). Not mapped: kafkajs's `retry` and `logLevel` (the
 * library's own retries apply: 3, 250 ms apart).
 */

import type { Consumer } from '@platformatic/kafka';
import type { KafkaConnectionOptions, KafkaSaslOptions } from '../connection-options.ts';
import { tlsFromFiles, validateConnectionOptions } from '../connection-options.ts';
import { mskIamToken } from '../msk-iam-token.ts';

type SaslConfig = NonNullable<ConstructorParameters<typeof Consumer>[0]['sasl']>;
type TlsConfig = NonNullable<ConstructorParameters<typeof Consumer>[0]['tls']>;

/** The connection part of the library's client options (what {@link platformaticConnection} returns). */
export interface PlatformaticConnection {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  tls?: TlsConfig;
  sasl?: SaslConfig;
}

function saslFor(sasl: KafkaSaslOptions | undefined): SaslConfig | undefined {
  if (sasl === undefined) return undefined;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'SCRAM-SHA-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'SCRAM-SHA-512', username: sasl.username, password: sasl.password };
    case 'aws-msk-iam':
      return { mechanism: 'OAUTHBEARER', token: () => mskIamToken(sasl.region) };
    case 'oauthbearer': {
      const provider = sasl.provider;
      return {
        mechanism: 'OAUTHBEARER',
        token: provider === undefined ? (sasl.token ?? '') : async () => (await provider()).value,
      };
    }
  }
}

/** The connection part of the library's client options for our connection options (exported for tests). */
export function platformaticConnection(options: KafkaConnectionOptions): PlatformaticConnection {
  validateConnectionOptions(options);
  const ssl =
    options.sasl?.mechanism === 'aws-msk-iam'
      ? (tlsFromFiles(options.ssl) ?? true)
      : tlsFromFiles(options.ssl);
  const out: PlatformaticConnection = {
    clientId: options.clientId ?? 'cdc-cache',
    bootstrapBrokers: [...options.brokers],
    connectTimeout: options.connectionTimeoutMs ?? 10_000,
  };
  if (ssl !== undefined && ssl !== false) out.tls = (ssl === true ? {} : ssl) as TlsConfig;
  const sasl = saslFor(options.sasl);
  if (sasl !== undefined) out.sasl = sasl;
  return out;
}
