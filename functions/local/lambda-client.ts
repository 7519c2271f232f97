/**
 * Invoking a function through `@aws-sdk/client-lambda`, deployed or local (`lambda serve`): one
 * place that builds the client (dummy credentials for a local endpoint without AWS credentials)
 * and turns an Invoke answer into a result or an error.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

/** Structural Lambda client: anything with the SDK's `send(InvokeCommand)`. */
export interface LambdaLike {
  send(
    command: InvokeCommand,
  ): Promise<{ FunctionError?: string; Payload?: Uint8Array; StatusCode?: number }>;
}

/** A function error returned by Invoke (`X-Amz-Function-Error`). */
export class FunctionInvocationError extends Error {
  override readonly name = 'FunctionInvocationError';
  /** The error payload (`{ errorType, errorMessage, trace }`). */
  readonly payload: unknown;
  constructor(message: string, payload: unknown) {
    super(message);
    this.payload = payload;
  }
}

/** Creates a Lambda client for `endpoint` (local) or the default AWS endpoint. */
export function lambdaClient(options: { endpoint?: string; region?: string } = {}): LambdaClient {
  const local = options.endpoint !== undefined && process.env.AWS_ACCESS_KEY_ID === undefined;
  return new LambdaClient({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 3,
  });
}

/** Invokes `functionName` synchronously with `event`; resolves with the parsed payload. */
export async function invokeFunction(
  client: LambdaLike,
  functionName: string,
  event: unknown,
): Promise<unknown> {
  const out = await client.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(event)),
    }),
  );
  const text = out.Payload === undefined ? '' : Buffer.from(out.Payload).toString('utf8');
  const payload: unknown = text === '' ? null : JSON.parse(text);
  if (out.FunctionError !== undefined) {
    const p = payload as { errorType?: string; errorMessage?: string } | null;
    throw new FunctionInvocationError(
      `${functionName}: ${out.FunctionError} error: ${p?.errorType ?? 'Error'}: ${p?.errorMessage ?? text}`,
      payload,
    );
  }
  return payload;
}
