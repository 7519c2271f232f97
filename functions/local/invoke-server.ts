/**
 * The Lambda Invoke API on localhost (`cdc-cache lambda serve`), enough of it for
 * `@aws-sdk/client-lambda` and the AWS CLI to invoke the project's handlers in-process:
 *
 * - `POST /2015-03-31/functions/{name}/invocations` (name, partial ARN or full ARN; `Qualifier` ignored)
 * - `X-Amz-Invocation-Type`: `RequestResponse` (200 + payload), `Event` (202, runs in the
 *   background), `DryRun` (204)
 * - a handler error: 200 with `X-Amz-Function-Error: Unhandled` and `{ errorType, errorMessage, trace }`,
 *   as Lambda answers; a timeout is an error too
 * - `X-Amz-Log-Type: Tail`: the last 4 KB of the invocation's log lines, base64, in `X-Amz-Log-Result`
 * - an unknown function: 404 `ResourceNotFoundException`; a payload that is not JSON: 400
 *   `InvalidRequestContentException`; more than 6 MB: 413 `RequestTooLargeException`
 *
 * Binds to 127.0.0.1 by default; there is no authentication (requests are not SigV4-checked).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaContext } from '../runtime/lambda-types.ts';
import type { LogSink } from '../runtime/logger.ts';

/** A handler the server can invoke. */
export type LocalHandler = (event: never, context: LambdaContext) => Promise<unknown>;

/** Options of {@link startInvokeServer}. */
export interface InvokeServerOptions {
  /** Functions by name. */
  functions: Readonly<Record<string, LocalHandler>>;
  /** Port; 0 picks a free one. @default 9001 */
  port?: number;
  /** Address to bind. @default '127.0.0.1' */
  host?: string;
  /** Function timeout, ms. @default 60000 */
  timeoutMs?: number;
  /** Where the server's own lines go (one JSON object per line). @default stderr */
  log?: LogSink;
}

/** A running Invoke API server. */
export interface InvokeServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT`, the `endpoint` for `new LambdaClient({ endpoint })`. */
  readonly url: string;
  /** Background (`Event`) invocations not finished yet. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Largest synchronous request payload Lambda accepts. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const TAIL_BYTES = 4096;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

const captured = new AsyncLocalStorage<string[]>();

/**
 * Wraps a log sink so lines written during an invocation are also kept for `X-Amz-Log-Type: Tail`.
 * Give the handlers' environment this sink.
 */
export function tailingSink(sink: LogSink): LogSink {
  return (line) => {
    captured.getStore()?.push(line);
    sink(line);
  };
}

function functionName(encoded: string): string {
  const name = decodeURIComponent(encoded);
  // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] or ACCOUNT:function:NAME or NAME[:QUALIFIER]
  const m = /(?:^|:)function:([^:]+)/.exec(name);
  return m ? m[1]! : name.split(':')[0]!;
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(JSON.stringify({ Type: 'User', message }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function errorPayload(error: unknown): string {
  const e = error instanceof Error ? error : new Error(String(error));
  return JSON.stringify({
    errorType: e.name,
    errorMessage: e.message,
    trace: (e.stack ?? '').split('\n'),
  });
}

/** Starts the server. */
export async function startInvokeServer(options: InvokeServerOptions): Promise<InvokeServer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const background = new Set<Promise<unknown>>();

  const invoke = async (name: string, handler: LocalHandler, event: unknown, requestId: string) => {
    const deadline = Date.now() + timeoutMs;
    const context: LambdaContext = {
      awsRequestId: requestId,
      functionName: name,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
        e.name = 'Sandbox.Timedout';
        reject(e);
      }, timeoutMs);
    });
    try {
      return await Promise.race([handler(event as never, context), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = INVOKE_PATH.exec(url.pathname);
      if (req.method !== 'POST' || match === null) {
        sendError(
          res,
          404,
          'UnknownOperationException',
          `${req.method} ${url.pathname}: only Invoke is served here`,
        );
        return;
      }
      const name = functionName(match[1]!);
      const handler = options.functions[name];
      if (handler === undefined) {
        sendError(
          res,
          404,
          'ResourceNotFoundException',
          `Function not found: ${name} (served: ${Object.keys(options.functions).join(', ')})`,
        );
        return;
      }
      const body = await readBody(req);
      if (body === undefined) {
        sendError(
          res,
          413,
          'RequestTooLargeException',
          `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes`,
        );
        return;
      }
      let event: unknown;
      try {
        event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch (e) {
        sendError(
          res,
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: ${(e as Error).message}`,
        );
        return;
      }
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      const requestId = randomUUID();
      const common = { 'x-amzn-requestid': requestId, 'x-amz-executed-version': '$LATEST' };
      if (type === 'DryRun') {
        res.writeHead(204, common).end();
        return;
      }
      if (type === 'Event') {
        const run = invoke(name, handler, event, requestId).catch((error: unknown) => {
          log(
            JSON.stringify({
              level: 'error',
              message: 'async invocation failed',
              function: name,
              requestId,
              error: String(error),
            }),
          );
        });
        background.add(run);
        void run.finally(() => background.delete(run));
        res.writeHead(202, common).end();
        return;
      }
      if (type !== 'RequestResponse') {
        sendError(
          res,
          400,
          'InvalidParameterValueException',
          `X-Amz-Invocation-Type ${type}: use RequestResponse, Event or DryRun`,
        );
        return;
      }
      const lines: string[] = [];
      const headers: Record<string, string> = { ...common, 'content-type': 'application/json' };
      let payload: string;
      try {
        const result = await captured.run(lines, () => invoke(name, handler, event, requestId));
        payload = JSON.stringify(result ?? null);
      } catch (error) {
        headers['x-amz-function-error'] = 'Unhandled';
        payload = errorPayload(error);
        log(
          JSON.stringify({
            level: 'error',
            message: 'invocation failed',
            function: name,
            requestId,
            error: String(error),
          }),
        );
      }
      if (String(req.headers['x-amz-log-type'] ?? '') === 'Tail') {
        const text = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        headers['x-amz-log-result'] = text.subarray(Math.max(0, text.length - TAIL_BYTES)).toString('base64');
      }
      res.writeHead(200, headers).end(payload);
    })().catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'ServiceException', String(error));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9001, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
