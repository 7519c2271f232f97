/**
 * The service's HTTP endpoint: `GET /livez` (the process and its loop are alive), `GET /readyz`
 * (connected and assigned work: 200, else 503 with the reason) and `GET /metrics` (Prometheus text,
 * prom-client's default process metrics included).
 * `/healthz` is an alias of `/livez` for platforms that expect it. Bound to 127.0.0.1 unless told.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from './metrics.ts';

/** What the health endpoints ask. */
export interface HealthSource {
  /** Alive: false only when the process should be restarted (a stuck loop, a fatal error). */
  live(): boolean;
  /** Ready: null when ready, else the reason it is not. */
  notReadyReason(): string | null;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Port; 0 picks a free one. @default 9464 */
  port?: number;
  /** Bind address. @default '127.0.0.1' */
  host?: string;
  registry: MetricsRegistry;
  health: HealthSource;
}

/** Defaults of the HTTP endpoint. */
export const HTTP_DEFAULTS = { port: 9464, host: '127.0.0.1' } as const;

/** A running endpoint. */
export interface RunningHttpServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the health/metrics endpoint. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry.render().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (error: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics failed: ${(error as Error).message}\n`),
      );
    } else if (path === '/livez' || path === '/healthz') {
      const ok = options.health.live();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not live\n');
    } else if (path === '/readyz') {
      const reason = options.health.notReadyReason();
      res
        .writeHead(reason === null ? 200 : 503, { 'content-type': 'text/plain' })
        .end(reason === null ? 'ready\n' : `not ready: ${reason}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? HTTP_DEFAULTS.port, options.host ?? HTTP_DEFAULTS.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
