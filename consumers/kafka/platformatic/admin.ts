/**
 * {@link KafkaAdminPort} over `@platformatic/kafka`'s `Admin`: topic offsets (ListOffsets with the
 * earliest / latest timestamps), a group's committed offsets (OffsetFetch), setting them
 * (OffsetCommit through the admin API, for a group with no member) and deleting groups.
 */

import { Admin } from '@platformatic/kafka';
import type { KafkaAdminPort } from '../kafka-port.ts';
import type { PlatformaticConnection } from './connection.ts';

/** ListOffsets timestamps: the oldest offset kept, and the next offset to be written. */
const EARLIEST = -2n;
const LATEST = -1n;

/** Creates our admin port over the library's `Admin`. */
export function createPlatformaticAdmin(connection: PlatformaticConnection): KafkaAdminPort {
  const admin = new Admin(connection);
  const offsetsAt = async (topic: string, partitions: number[], timestamp: bigint) => {
    const listed = await admin.listOffsets({
      topics: [
        { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
      ],
    });
    const out = new Map<number, bigint>();
    for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
    return out;
  };
  return {
    listTopics: () => admin.listTopics(),
    async topicOffsets(topic) {
      const meta = await admin.metadata({ topics: [topic] });
      const count = meta.topics.get(topic)?.partitionsCount ?? 0;
      const partitions = Array.from({ length: count }, (_, i) => i);
      const [low, high] = await Promise.all([
        offsetsAt(topic, partitions, EARLIEST),
        offsetsAt(topic, partitions, LATEST),
      ]);
      return partitions.map((partition) => ({
        partition,
        low: String(low.get(partition) ?? 0n),
        high: String(high.get(partition) ?? 0n),
      }));
    },
    async committedOffsets(groupId, topic) {
      const groups = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const out = new Map<number, string>();
      for (const g of groups)
        for (const t of g.topics)
          if (t.name === topic)
            for (const p of t.partitions)
              if (p.committedOffset >= 0n) out.set(p.partitionIndex, String(p.committedOffset));
      return out;
    },
    async setCommittedOffsets(groupId, topic, partitions) {
      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [
          {
            name: topic,
            partitionOffsets: partitions.map((p) => ({ partition: p.partition, offset: BigInt(p.offset) })),
          },
        ],
      });
    },
    async deleteGroups(groupIds) {
      await admin.deleteGroups({ groups: [...groupIds] });
    },
    close: () => admin.close(),
  };
}
