/**
 * Lets a test group state which real services it needs. The vitest global setup
 * (test/setup/services.ts) records what the harness brought up; `requireServices` in a `beforeAll`
 * fails the group with the harness's reason when one is missing, instead of letting it pass by
 * not running. Run outside that setup (no status recorded), it assumes the services are up and the
 * tests fail on their own connections if not.
 */

/** Environment variable carrying `{ [service]: ServiceStatus }` as JSON, set by the global setup. */
export const SERVICE_STATUS_ENV = 'CDC_CACHE_SERVICES_STATUS';

/** Services of infra/local/services.sh. */
export type ServiceName =
  | 'valkey'
  | 'valkey-cluster'
  | 'valkey-tls'
  | 'dynamodb'
  | 'postgres'
  | 'kafka'
  | 'connect'
  | 'sqs';

/** Whether a service is up, and why not. */
export type ServiceStatus = { up: true } | { up: false; reason: string };

/** Thrown when a test group needs a service the harness could not provide. */
export class ServiceUnavailableError extends Error {
  readonly code = 'SERVICE_UNAVAILABLE';
  readonly service: ServiceName;
  readonly reason: string;
  constructor(service: ServiceName, reason: string) {
    super(`real service '${service}' is not available: ${reason} (see infra/local/README.md)`);
    this.name = 'ServiceUnavailableError';
    this.service = service;
    this.reason = reason;
  }
}

/** Throws {@link ServiceUnavailableError} for the first of `services` that is not up. */
export function requireServices(...services: ServiceName[]): void {
  const raw = process.env[SERVICE_STATUS_ENV];
  if (!raw) return;
  const status = JSON.parse(raw) as Record<string, ServiceStatus | undefined>;
  for (const name of services) {
    const s = status[name];
    if (!s) throw new ServiceUnavailableError(name, 'unknown to the harness');
    if (!s.up) throw new ServiceUnavailableError(name, s.reason);
  }
}

/** Reads a CDC_CACHE_* variable exported by `services.sh env`; throws naming it when missing. */
export function serviceEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run tests through vitest (global setup) or eval "$(bash infra/local/services.sh env)"`,
    );
  }
  return value;
}
