/**
 * Dead-letter destinations for records that cannot be decoded or planned (poison records). The
 * stream moves on past them, so each one must land somewhere a person can find it:
 *
 * - `log` (default): an error-level log line with the whole record, its position and the reason.
 * - `fail`: nothing is moved aside; the record is reported in batchItemFailures, so the event
 *   source mapping's own retry limit and on-failure destination decide.
 * - an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<queue>`): one message per record.
 * - a file path (or `file://` URL), for local use: one JSON line per record, appended.
 *
 * A send that fails rejects, which leaves the record undone: it is reported and delivered again.
 */
import { appendFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CdcCacheError, ConfigError, ErrorCode } from '../../core/errors.ts';
import { loadOptional } from '../../core/optional-dependency.ts';
import type { DeadLetterSink } from '../../core/pipeline/dead-letter-sink.ts';
import type { DeadLetter } from '../../core/pipeline/replay.ts';
import type { Logger } from './logger.ts';

/** A dead letter with where it came from. */
export interface DeadLetterMessage extends DeadLetter {
  /** The function that met it and its request id. */
  functionName: string;
  requestId: string;
  /** Shard (stream ARN) or topic-partition. */
  group: string;
}

/** A configured dead-letter destination: its kind and its sink (the project's one sink type). */
export interface DeadLetterDestination {
  /** `log`, `fail`, `sqs` or `file`. */
  readonly kind: string;
  /** Sends one dead letter; rejects when it could not be stored. */
  readonly send: DeadLetterSink<DeadLetterMessage>;
}

/** Structural SQS client: anything with the SDK's `send(SendMessageCommand)`. */
export interface SqsLike {
  send(command: unknown): Promise<unknown>;
}

/** Refusal used by the `fail` destination (keeps the record in batchItemFailures). */
export class DeadLetterRefusedError extends CdcCacheError {
  constructor(message: string) {
    super(ErrorCode.Target, message, { retriable: false });
  }
}

/** Creates the destination named by `spec` (see the module comment). */
export function createDeadLetterSink(spec: string, log: Logger, sqs?: SqsLike): DeadLetterDestination {
  if (spec === 'log') {
    return {
      kind: 'log',
      async send(m) {
        log.error('dead letter', { deadLetter: m });
      },
    };
  }
  if (spec === 'fail') {
    return {
      kind: 'fail',
      async send(m) {
        throw new DeadLetterRefusedError(
          `${m.position}: reported as a batch item failure (CDC_CACHE_DEAD_LETTER=fail)`,
        );
      },
    };
  }
  if (/^https:\/\/sqs\.[^/]+\/\d+\/[^/]+$/.test(spec) || spec.startsWith('sqs://')) {
    const queueUrl = spec.startsWith('sqs://') ? `https://${spec.slice('sqs://'.length)}` : spec;
    let client: Promise<{ client: SqsLike; command: (input: object) => unknown }> | undefined;
    const open = async () => {
      // Loaded on first use: the SDK is in the Lambda runtime and stays out of the bundles.
      const sdk = await loadOptional('the SQS dead-letter queue', () => import('@aws-sdk/client-sqs'));
      return {
        client: sqs ?? new sdk.SQSClient({}),
        command: (input: object) => new sdk.SendMessageCommand(input as never),
      };
    };
    return {
      kind: 'sqs',
      async send(m) {
        client ??= open();
        const { client: c, command } = await client;
        await c.send(command({ QueueUrl: queueUrl, MessageBody: JSON.stringify(m) }));
      },
    };
  }
  if (spec.startsWith('file://') || spec.startsWith('/') || spec.startsWith('.')) {
    const path = spec.startsWith('file://') ? fileURLToPath(spec) : spec;
    return {
      kind: 'file',
      async send(m) {
        await appendFile(path, `${JSON.stringify(m)}\n`);
      },
    };
  }
  throw new ConfigError(
    `CDC_CACHE_DEAD_LETTER=${spec}: use "log", "fail", an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE) or a file path (absolute, ./relative or file://)`,
  );
}
