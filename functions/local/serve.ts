/**
 * `cdc-cache lambda serve`: the project's handlers behind the local Invoke API, sharing one
 * environment (one config, one target connection), exactly as one warm execution environment
 * per function would. Function names: `dynamodb` and `kafka`, also as `cdc-cache-dynamodb` /
 * `cdc-cache-kafka` (the names infra deploys).
 */
import { createDynamoDbHandler } from '../dynamodb-handler.ts';
import { createKafkaHandler } from '../kafka-handler.ts';
import { createEnvironment, type Environment, type EnvironmentOptions } from '../runtime/environment.ts';
import { stdoutSink } from '../runtime/logger.ts';
import { type InvokeServer, type LocalHandler, startInvokeServer, tailingSink } from './invoke-server.ts';

/** The handlers `lambda serve` offers, by every name they answer to. */
export function localFunctions(environment: Environment): Record<string, LocalHandler> {
  const dynamodb = createDynamoDbHandler(environment) as LocalHandler;
  const kafka = createKafkaHandler(environment) as LocalHandler;
  return { dynamodb, 'cdc-cache-dynamodb': dynamodb, kafka, 'cdc-cache-kafka': kafka };
}

/** Options of {@link serveFunctions}. */
export interface ServeOptions extends EnvironmentOptions {
  port?: number;
  host?: string;
  timeoutMs?: number;
}

/** A running `lambda serve`. */
export interface ServedFunctions extends InvokeServer {
  readonly environment: Environment;
}

/** Starts the Invoke API with the project's handlers. */
export async function serveFunctions(options: ServeOptions = {}): Promise<ServedFunctions> {
  const { port, host, timeoutMs, ...envOptions } = options;
  const environment = createEnvironment({
    ...envOptions,
    logSink: tailingSink(envOptions.logSink ?? stdoutSink),
  });
  const server = await startInvokeServer({
    functions: localFunctions(environment),
    port: port ?? 9001,
    host: host ?? '127.0.0.1',
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(envOptions.logSink === undefined ? {} : { log: envOptions.logSink }),
  });
  return {
    ...server,
    port: server.port,
    url: server.url,
    environment,
    async close() {
      await server.close();
      await environment.close();
    },
  };
}
