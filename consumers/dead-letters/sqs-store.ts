/**
 * An SQS queue as a dead-letter store: the Lambda handlers' poison queue (`CDC_CACHE_DEAD_LETTER` =
 * a queue URL; one JSON dead letter per message) and a Lambda on-failure destination of a DynamoDB
 * event source mapping (invocation records carrying the shard and sequence-number range). Both
 * kinds may share a queue; each message is read by its shape. Ids are the MessageIds.
 *
 * Reading receives messages with a visibility timeout, so other readers do not see them meanwhile,
 * until the queue answers empty or `max` is reached. Nothing is deleted by reading: `settle`
 * deletes (DeleteMessageBatch) only the messages it is given and makes every other message it read
 * visible again at once (ChangeMessageVisibilityBatch 0). If the process dies in between, the
 * messages come back by themselves when the timeout ends. Every receive counts towards a queue's own
 * redrive policy (ApproximateReceiveCount), so list a queue with a maxReceiveCount sparingly.
 *
 * `@aws-sdk/client-sqs` is loaded on first use (an optional dependency).
 */
import { loadOptional } from '../../core/optional-dependency.ts';
import {
  type DeadLetterStore,
  DeadLetterStoreError,
  parseDeadLetterBody,
  type ReadOptions,
  type StoredDeadLetter,
} from './dead-letter-store.ts';

/** Structural SQS client: the SDK's `send`. */
export interface SqsClientLike {
  send(command: unknown): Promise<unknown>;
  destroy?(): void;
}

/** Options of {@link sqsDeadLetterStore}. */
export interface SqsStoreOptions {
  queueUrl: string;
  /** Endpoint (ElasticMQ, LocalStack). @default the queue URL's origin unless it is an AWS host */
  endpoint?: string;
  /** @default the queue URL's region, else AWS_REGION, else us-east-1 */
  region?: string;
  /** Seconds a read message stays hidden while a redrive works on it. @default 300 */
  visibilityTimeoutSeconds?: number;
  /** A client to use instead of the SDK's (tests). */
  client?: SqsClientLike;
}

interface Received {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Record<string, string>;
}

/** Opens the SQS dead-letter store of `queueUrl`. */
export function sqsDeadLetterStore(o: SqsStoreOptions): DeadLetterStore {
  const aws = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(o.queueUrl);
  const region = o.region ?? aws?.[1] ?? process.env.AWS_REGION ?? 'us-east-1';
  const endpoint = o.endpoint ?? (aws ? undefined : new URL(o.queueUrl).origin);
  const receipts = new Map<string, string>();
  let sdk: Promise<{ client: SqsClientLike; m: typeof import('@aws-sdk/client-sqs') }> | undefined;
  const open = async () => {
    const m = await loadOptional('dead-letters (SQS queue)', () => import('@aws-sdk/client-sqs'));
    if (o.client) return { client: o.client, m };
    const config: ConstructorParameters<typeof m.SQSClient>[0] = { region, maxAttempts: 3 };
    if (endpoint !== undefined) {
      config.endpoint = endpoint;
      if (process.env.AWS_ACCESS_KEY_ID === undefined)
        config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    }
    return { client: new m.SQSClient(config) as SqsClientLike, m };
  };
  const sqs = () => {
    sdk ??= open();
    return sdk;
  };
  const fail = (what: string, error: unknown) =>
    new DeadLetterStoreError(`${o.queueUrl}: ${what}: ${(error as Error).message}`, {
      cause: error,
      retriable: true,
    });

  /** Runs a batch command over `ids` in tens; returns how many the queue confirmed. */
  async function inTens(ids: string[], make: (entries: { Id: string; ReceiptHandle: string }[]) => unknown) {
    const { client } = await sqs();
    let ok = 0;
    for (let i = 0; i < ids.length; i += 10) {
      const entries = ids
        .slice(i, i + 10)
        .map((id, j) => ({ Id: `m${i + j}`, ReceiptHandle: receipts.get(id)! }));
      const r = (await client.send(make(entries))) as {
        Successful?: unknown[];
        Failed?: { Message?: string }[];
      };
      ok += r.Successful?.length ?? 0;
      if (r.Failed?.length)
        throw new DeadLetterStoreError(`${o.queueUrl}: ${r.Failed[0]?.Message ?? 'refused'}`);
    }
    return ok;
  }

  return {
    kind: 'sqs',
    name: o.queueUrl,
    async read(options: ReadOptions = {}): Promise<StoredDeadLetter[]> {
      const { client, m } = await sqs();
      const max = options.max ?? 1000;
      const out: StoredDeadLetter[] = [];
      receipts.clear();
      const visibility = options.forRedrive ? (o.visibilityTimeoutSeconds ?? 300) : 30;
      while (out.length < max) {
        let r: { Messages?: Received[] };
        try {
          r = (await client.send(
            new m.ReceiveMessageCommand({
              QueueUrl: o.queueUrl,
              MaxNumberOfMessages: Math.min(10, max - out.length),
              VisibilityTimeout: visibility,
              WaitTimeSeconds: 1,
              MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
            }),
          )) as { Messages?: Received[] };
        } catch (error) {
          throw fail('ReceiveMessage failed', error);
        }
        const got = r.Messages ?? [];
        if (got.length === 0) break;
        for (const msg of got) {
          const id = msg.MessageId ?? '';
          if (receipts.has(id)) continue;
          receipts.set(id, msg.ReceiptHandle ?? '');
          const sent = Number(msg.Attributes?.SentTimestamp);
          const at = Number.isFinite(sent) ? new Date(sent).toISOString() : undefined;
          let body: unknown;
          try {
            body = JSON.parse(msg.Body ?? '');
          } catch {
            body = msg.Body;
          }
          out.push(parseDeadLetterBody(id, body, at));
        }
      }
      return out;
    },
    async settle(done: ReadonlySet<string>): Promise<number> {
      const { m } = await sqs();
      const remove = [...receipts.keys()].filter((id) => done.has(id));
      const keep = [...receipts.keys()].filter((id) => !done.has(id));
      let removed = 0;
      try {
        removed = await inTens(
          remove,
          (Entries) => new m.DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries }),
        );
      } finally {
        // The rest become visible again now, not when the timeout ends (best effort: it ends anyway).
        await inTens(
          keep,
          (Entries) =>
            new m.ChangeMessageVisibilityBatchCommand({
              QueueUrl: o.queueUrl,
              Entries: Entries.map((e) => ({ ...e, VisibilityTimeout: 0 })),
            }),
        ).catch(() => 0);
        receipts.clear();
      }
      return removed;
    },
    async close() {
      if (sdk) (await sdk).client.destroy?.();
    },
  };
}
