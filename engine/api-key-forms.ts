/**
 * Key forms at the in-process API boundary (engine.ts), beyond single keys (key-text.ts): tag
 * epochs, write-through hooks and the hooked-key error, each turned between text and keyspace form.
 */
import { EngineError, EngineErrorCode } from './errors.ts';
import { keyBytes, keyText } from './key-text.ts';
import type { TagEpochs } from './tags.ts';
import type { WriteThroughHook } from './write-through.ts';

/** Tag epochs with their tag names in keyspace form (the same array when all are ASCII). */
export function epochsBytes(tags: TagEpochs): TagEpochs {
  return tags.some(([tag]) => keyBytes(tag) !== tag)
    ? tags.map(([tag, e]) => [keyBytes(tag), e] as const)
    : tags;
}

/** Tag epochs with their tag names as text. */
export function epochsText(tags: TagEpochs): TagEpochs {
  return tags.some(([tag]) => keyText(tag) !== tag)
    ? tags.map(([tag, e]) => [keyText(tag), e] as const)
    : tags;
}

/**
 * A hook as the keyspace sees it: prefix/pattern in keyspace form, so protocol and in-process writes
 * match it alike; `persist` gets the change's key as text.
 */
export function hookBytes(hook: WriteThroughHook): WriteThroughHook {
  return {
    ...hook,
    ...(hook.prefix === undefined ? {} : { prefix: keyBytes(hook.prefix) }),
    ...(hook.pattern === undefined ? {} : { pattern: keyBytes(hook.pattern) }),
    persist: (change) => hook.persist({ ...change, key: keyText(change.key) }),
  };
}

/** The error of a plain write to a key a write-through hook covers, naming the key as text. */
export function hookedKeyError(key: string): EngineError {
  key = keyText(key);
  return new EngineError(
    EngineErrorCode.HookedKey,
    `key ${JSON.stringify(key)} is covered by a write-through hook: use write()/remove()`,
  );
}
