/**
 * The one dead-letter sink type of every process (consumers, Lambda handlers, replay, the testing
 * helper): where a record that cannot be decoded or planned goes, with its position and reason.
 */
import type { DeadLetter } from './replay.ts';

/**
 * Stores one dead letter. Resolves only once it is safely stored; a rejection keeps the record
 * undone (it is retried and nothing after it is checkpointed), so nothing is silently dropped.
 * `M` adds context a process has (the Lambda handlers add the function and request id).
 */
export type DeadLetterSink<M extends DeadLetter = DeadLetter> = (deadLetter: M) => Promise<void>;
