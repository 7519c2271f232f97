/**
 * `cdc-cache verify --kafka`: follows Debezium topics live for the verifier, read-only (a group of
 * its own, from the newest offsets, never committing). Records that cannot be decoded are counted
 * and skipped: the pipeline dead-letters them, the verifier only samples.
 */
import { type DecodeOptions, decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { loadOptional } from '../../../core/optional-dependency.ts';

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
  const { Kafka, logLevel } = await loadOptional('cdc-cache verify --kafka', () => import('kafkajs'));
  // kafkajs schedules a negative timer after every response (TimeoutNegativeWarning); same fix as the consumers'.
  const { patchKafkajsRequestQueue } = await import('../../../consumers/kafka/kafkajs-client.ts');
  patchKafkajsRequestQueue();
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'cdc-cache-verify',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: group ?? `cdc-cache-verify-${process.pid}-${Date.now()}` });
  let undecodable = 0;
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (message.value === null) return;
        const keyText = message.key?.toString('utf8');
        let key = 'null';
        if (keyText !== undefined) {
          try {
            JSON.parse(keyText);
            key = keyText;
          } catch {
            key = JSON.stringify(keyText);
          }
        }
        const line = `{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":${message.offset},"key":${key},"value":${message.value.toString('utf8')}}`;
        try {
          for (const e of decodeDocument(line, decode)) observe(e);
        } catch {
          undecodable++; // not ours to dead-letter: the pipeline does; the verifier only samples
        }
      },
    });
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
    await consumer.disconnect();
  }
  if (undecodable > 0)
    process.stderr.write(`verify: ${undecodable} records could not be decoded (skipped)\n`);
}
