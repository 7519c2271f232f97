/**
 * The benchmark's probe: wraps a consumer port so every `resolveOffset` is observed with the
 * messages it covers, the time it ran (after the target acknowledged) and the time their batch was
 * handed to the consumer's eachBatch (what the client and its fetches took before our work
 * started), without touching the consumer's code.
 */
import type { KafkaConsumerPort, KafkaMessage } from '../../consumers/kafka/kafka-port.ts';

/**
 * `port`, with `onResolve(messages, at, batchAt)` called for the messages each resolveOffset
 * covers: `at` when it ran, `batchAt` when their batch entered eachBatch (epoch ms, fractional).
 */
export function observed(
  port: KafkaConsumerPort,
  onResolve: (messages: readonly KafkaMessage[], at: number, batchAt: number) => void,
): KafkaConsumerPort {
  return {
    ...port,
    run: (o) =>
      port.run({
        ...o,
        eachBatch: (batch, c) => {
          const batchAt = performance.timeOrigin + performance.now();
          let from = 0;
          return o.eachBatch(batch, {
            ...c,
            resolveOffset(offset) {
              const at = performance.timeOrigin + performance.now();
              let to = from;
              while (to < batch.messages.length && batch.messages[to]!.offset !== offset) to++;
              onResolve(batch.messages.slice(from, to + 1), at, batchAt);
              from = to + 1;
              c.resolveOffset(offset);
            },
          });
        },
      }),
  };
}
