/**
 * The local Invoke API's wire behaviour, spoken to with plain HTTP (what the SDK and the AWS CLI
 * send): status codes, error types, invocation types, function errors and timeouts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InvokeServer,
  MAX_PAYLOAD_BYTES,
  startInvokeServer,
} from '../../../../functions/local/invoke-server.ts';

let server: InvokeServer;
const seen: unknown[] = [];

beforeAll(async () => {
  server = await startInvokeServer({
    port: 0,
    timeoutMs: 300,
    log: () => {},
    functions: {
      echo: async (event, context) => ({
        event,
        functionName: context.functionName,
        left: context.getRemainingTimeInMillis(),
      }),
      boom: async () => {
        throw new TypeError('no good');
      },
      slow: () => new Promise(() => {}),
      record: async (event) => {
        seen.push(event);
        return null;
      },
    },
  });
});
afterAll(async () => {
  await server?.close();
});

const post = (name: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    body,
    headers,
  });

describe('local Invoke API', () => {
  it('RequestResponse: 200 with the handler result; names and ARNs resolve', async () => {
    for (const name of [
      'echo',
      'arn:aws:lambda:us-east-1:123456789012:function:echo:$LATEST',
      '123456789012:function:echo',
    ]) {
      const res = await post(name, '{"a":1}');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-amz-executed-version')).toBe('$LATEST');
      const body = (await res.json()) as { event: unknown; functionName: string; left: number };
      expect(body).toMatchObject({ event: { a: 1 }, functionName: 'echo' });
      expect(body.left).toBeGreaterThan(200);
    }
  });

  it('a handler error: 200 + X-Amz-Function-Error: Unhandled + the error payload', async () => {
    const res = await post('boom', '{}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'no good',
      trace: expect.any(Array),
    });
  });

  it('a timeout is a function error too', async () => {
    const res = await post('slow', '{}');
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 0.30 seconds',
    });
  });

  it('Event: 202 at once, the handler runs in the background; DryRun: 204', async () => {
    const res = await post('record', '{"n":1}', { 'X-Amz-Invocation-Type': 'Event' });
    expect(res.status).toBe(202);
    await server.idle();
    expect(seen).toEqual([{ n: 1 }]);
    expect((await post('record', '{"n":2}', { 'X-Amz-Invocation-Type': 'DryRun' })).status).toBe(204);
    expect(seen).toHaveLength(1);
    const bad = await post('record', '{}', { 'X-Amz-Invocation-Type': 'Later' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
  });

  it('client errors carry x-amzn-ErrorType like Lambda', async () => {
    const missing = await post('nope', '{}');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    const notJson = await post('echo', '{"a":');
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    const big = await post('echo', `"${'x'.repeat(MAX_PAYLOAD_BYTES)}"`);
    expect(big.status).toBe(413);
    expect(big.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
    const other = await fetch(`${server.url}/2015-03-31/functions`, { method: 'GET' });
    expect(other.status).toBe(404);
  });
});
