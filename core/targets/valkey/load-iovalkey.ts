/**
 * iovalkey, loaded on first use (a process that never opens Valkey never loads it). Run from source,
 * Node's ESM loader gives the CommonJS package's named exports; in the Lambda bundle (esbuild, split
 * on dynamic imports) the chunk holding it has only a default export (`module.exports`), and reading
 * `Valkey` off the namespace gave undefined: every Lambda invocation into Valkey failed with
 * "o is not a constructor". So the classes are taken from whichever of the two holds them.
 */
import type * as Iovalkey from 'iovalkey';

/** The iovalkey module's exports (`Valkey`, `Cluster`, …), however it was bundled. */
export async function loadIovalkey(): Promise<typeof Iovalkey> {
  const m = (await import('iovalkey')) as typeof Iovalkey & { default?: typeof Iovalkey };
  return typeof m.Valkey === 'function' ? m : (m.default as typeof Iovalkey);
}
