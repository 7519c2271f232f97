/**
 * `cdc-cache verify --kafka`: follows Debezium topics live for the verifier through the Kafka port's
 * read-only tail (consumers/kafka/kafka-tail.ts: from the newest offsets, a group of its own, never
 * committing). Records that cannot be decoded are counted and skipped: the pipeline dead-letters
 * them, the verifier only samples.
 */
import { type DecodeOptions, decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';

/** Follows topics from their newest offsets with a group of its own, never committing. */
export async function followKafka(
  brokers: string,
  topics: string[],
  group: string | undefined,
  durationMs: number,
  decode: DecodeOptions,
  observe: (e: ChangeEvent) => void,
  tick: () => Promise<void>,
): Promise<void> {
  const { createKafkaClient, toolKafkaClientName } = await import('../../../consumers/kafka/kafka-client.ts');
  const { kafkaLine } = await import('../../../consumers/kafka/change-log-line.ts');
  const { tailKafka } = await import('../../../consumers/kafka/kafka-tail.ts');
  const client = await createKafkaClient(
    { brokers: brokers.split(','), clientId: 'cdc-cache-verify' },
    toolKafkaClientName(),
  );
  let undecodable = 0;
  const tail = await tailKafka(client, {
    topics,
    from: 'latest',
    groupPrefix: 'cdc-cache-verify',
    ...(group === undefined ? {} : { groupId: group }),
    onMessage: (topic, partition, message) => {
      if (message.value === null) return; // a tombstone: the delete before it carries the change
      try {
        const line = JSON.stringify(kafkaLine(topic, partition, message));
        for (const e of decodeDocument(line, decode)) observe(e);
      } catch {
        undecodable++; // not ours to dead-letter: the pipeline does; the verifier only samples
      }
    },
  });
  try {
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    const until = Date.now() + durationMs;
    while (!stopped && Date.now() < until) {
      await tick();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.off('SIGINT', stop).off('SIGTERM', stop);
  } finally {
    await tail.stop();
  }
  if (undecodable > 0)
    process.stderr.write(`verify: ${undecodable} records could not be decoded (skipped)\n`);
}
