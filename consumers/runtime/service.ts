/**
 * The process shell around a consumer: structured logs, the health/metrics endpoint, the progress
 * line on a TTY, and shutdown. SIGTERM/SIGINT → `stop()` (drain in-flight work, commit, close); a
 * second signal exits at once (nothing is lost: only acknowledged work was ever checkpointed).
 */
import { isRetriable } from '../../core/errors.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { backoffDelay } from './backoff.ts';
import type { ConsumerConfig } from './consumer-config.ts';
import { type ConsumerMetrics, createConsumerMetrics, instrumentTarget } from './consumer-metrics.ts';
import { type HealthSource, type RunningHttpServer, startHttpServer } from './http-server.ts';
import { createJsonLogger, type Logger } from './logger.ts';
import { type ProgressSnapshot, startProgress } from './progress.ts';

/** What a consumer gives the service shell. */
export interface ServiceWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  health: HealthSource;
  progress(): ProgressSnapshot;
}

/** The shared pieces a worker is built from. */
export interface ServiceContext {
  logger: Logger;
  metrics: ConsumerMetrics;
  /** The target, instrumented (apply latency, ops, errors); its capabilities (shard leases) pass through. */
  target: CacheTarget;
}

/**
 * Opens the target, retrying while it is unreachable (a target outage): a consumer (re)started during
 * an outage waits for the target instead of exiting. Non-retriable errors (bad credentials, bad URL)
 * still fail at once.
 */
async function openUntilReachable(
  openTarget: (logger: Logger) => Promise<CacheTarget>,
  logger: Logger,
): Promise<CacheTarget> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openTarget(logger);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      const delay = backoffDelay(attempt);
      logger.warn('target unreachable; retrying', {
        attempt,
        delayMs: Math.round(delay),
        error,
      });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Runs a worker until a signal (or `untilStopped` resolves); returns the exit code. */
export async function runService(
  name: string,
  config: ConsumerConfig,
  /** Opens the target; `logger` receives the client library's error events. */
  openTarget: (logger: Logger) => Promise<CacheTarget>,
  build: (ctx: ServiceContext) => Promise<ServiceWorker>,
): Promise<number> {
  const logger = createJsonLogger({ level: config.log.level }, { service: name, pid: process.pid });
  const metrics = createConsumerMetrics();
  for (const warning of config.warnings) logger.warn('config warning', { warning });
  const target = instrumentTarget(await openUntilReachable(openTarget, logger), metrics);
  let worker: ServiceWorker | undefined;
  let http: RunningHttpServer | undefined;
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal; exiting now', { signal });
      process.exit(130);
    }
    stopping = true;
    logger.info('stopping: draining in-flight batches', { signal });
    resolveStopped();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    worker = await build({ logger, metrics, target });
    const w = worker;
    if (config.http.enabled) {
      http = await startHttpServer({
        port: config.http.port,
        host: config.http.host,
        registry: metrics.registry,
        health: {
          live: () => w.health.live(),
          notReadyReason: () => (stopping ? 'stopping' : w.health.notReadyReason()),
        },
      });
      logger.info('http endpoint up', { port: http.port, paths: ['/livez', '/readyz', '/metrics'] });
    }
    const progress =
      config.progress && process.stderr.isTTY ? startProgress(process.stderr, () => w.progress()) : undefined;
    await w.start();
    logger.info('consuming', { target: target.kind });
    await stopped;
    progress?.stop();
    await w.stop();
    logger.info('stopped cleanly');
    return 0;
  } catch (error) {
    logger.error('fatal', { error });
    if (worker !== undefined) await worker.stop().catch(() => {});
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await http?.close();
    await target.close().catch(() => {});
  }
}
