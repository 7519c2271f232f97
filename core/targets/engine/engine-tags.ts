/**
 * Tag invalidation on an in-process engine, a page at a time (engine `invalidateTagPage`), yielding
 * to the event loop between pages: a tag with very many entries never holds the loop for more than
 * one page. Shared by the target (the rules' ops) and the fill-lease store (the app's invalidateTag).
 */
import type { EngineLike } from './engine-fill-lease-store.ts';

/** Yields to the event loop (between pages). */
const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Invalidates every entry tagged `tag` on `engine` (`version` a sort key; '' = an app-side one
 * without a version). Answers the outcome and the keys removed (or, soft, marked stale).
 */
export async function invalidateTagInPages(
  engine: Pick<EngineLike, 'invalidateTagPage'>,
  tag: string,
  version: string,
  options: { soft?: boolean; tombstoneTtlMs?: number; pageSize?: number } = {},
): Promise<{ outcome: 'applied' | 'fenced'; keys: string[] }> {
  const pageOptions = {
    soft: options.soft === true,
    ...(options.pageSize === undefined ? {} : { limit: options.pageSize }),
    ...(options.tombstoneTtlMs === undefined ? {} : { tombstoneTtlMs: options.tombstoneTtlMs }),
  };
  let page = engine.invalidateTagPage(tag, version, pageOptions);
  let applied = page.applied;
  const keys = [...page.keys];
  while (page.more) {
    await yieldLoop();
    page = engine.invalidateTagPage(tag, page.version, pageOptions);
    if (page.applied) applied = true;
    for (const key of page.keys) keys.push(key);
  }
  return { outcome: applied ? 'applied' : 'fenced', keys };
}
