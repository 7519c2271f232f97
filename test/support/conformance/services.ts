/**
 * Where the real Valkey services are: the CDC_CACHE_* variables of `infra/local/services.sh env`.
 * When they are not set, the harness is asked to start the services (idempotent) and print them.
 * A service that cannot be reached fails the tests that need it, with the reason — never a skip,
 * locally or under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SERVICES = ['valkey', 'valkey-cluster', 'valkey-tls'];

/** The Valkey addresses the suite needs. */
export interface ValkeyServices {
  /** valkey://host:port of the standalone server. */
  standaloneUrl: string;
  /** Seed nodes of the 3-master cluster, host:port. */
  clusterNodes: string[];
  /** valkeys://user:password@host:port of the TLS + ACL server. */
  tlsUrl: string;
  /** PEM path of the CA that signed the TLS server's certificate. */
  tlsCa: string;
}

let cached: ValkeyServices | Error | undefined;

function fromEnv(env: NodeJS.ProcessEnv): ValkeyServices | null {
  const standaloneUrl = env.CDC_CACHE_VALKEY_URL;
  const nodes = env.CDC_CACHE_VALKEY_CLUSTER_NODES;
  const tlsUrl = env.CDC_CACHE_VALKEY_TLS_URL;
  const tlsCa = env.CDC_CACHE_VALKEY_TLS_CA;
  if (!standaloneUrl || !nodes || !tlsUrl || !tlsCa) return null;
  return { standaloneUrl, clusterNodes: nodes.split(','), tlsUrl, tlsCa };
}

/** The services, starting them through the harness when the environment does not name them. */
export function valkeyServices(): ValkeyServices {
  if (cached === undefined) {
    const found = fromEnv(process.env);
    if (found) cached = found;
    else {
      const script = join(ROOT, 'infra', 'local', 'services.sh');
      try {
        execFileSync('bash', [script, 'up', ...SERVICES], {
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 600_000,
        });
        const text = execFileSync('bash', [script, 'env', '--plain'], { encoding: 'utf8', timeout: 60_000 });
        const env: NodeJS.ProcessEnv = {};
        for (const line of text.split('\n')) {
          const eq = line.indexOf('=');
          if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
        }
        cached =
          fromEnv(env) ??
          new Error(`${script} env did not name every Valkey service (${SERVICES.join(', ')})`);
      } catch (error) {
        const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
        cached = new Error(
          `Valkey services unavailable: \`bash infra/local/services.sh up ${SERVICES.join(' ')}\` failed` +
            `${stderr ? `: ${stderr.split('\n').slice(-5).join(' | ')}` : ''}. Start them (see infra/local) or set ` +
            'CDC_CACHE_VALKEY_URL, CDC_CACHE_VALKEY_CLUSTER_NODES, CDC_CACHE_VALKEY_TLS_URL, CDC_CACHE_VALKEY_TLS_CA.',
        );
      }
    }
  }
  if (cached instanceof Error) throw cached;
  return cached;
}
