/**
 * AWS MSK IAM authentication: an OAUTHBEARER token signed by `aws-msk-iam-sasl-signer-js`
 * (`generateAuthToken`). The one place that loads the signer, for both Kafka adapters; loaded lazily,
 * so the package is needed only where IAM is used (a missing one is a one-line install hint).
 */
import { loadOptional } from '../../core/optional-dependency.ts';

interface MskIamSigner {
  generateAuthToken(o: { region: string }): Promise<{ token: string }>;
}

/** A fresh MSK IAM token for `region` (each SASL handshake asks for one). */
export async function mskIamToken(region: string): Promise<string> {
  const name = 'aws-msk-iam-sasl-signer-js';
  const signer = (await loadOptional('kafka.sasl aws-msk-iam', () => import(name))) as MskIamSigner;
  return (await signer.generateAuthToken({ region })).token;
}
