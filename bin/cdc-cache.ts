#!/usr/bin/env node
/**
 * The `cdc-cache` command: one executable, one verb per job (the dispatcher is bin/main.ts).
 */
import { registerHooks } from 'node:module';
import { endQuietlyWhenStdoutCloses } from './cli-error.ts';
import { runCdcCache } from './main.ts';

// Running from a checkout (.ts, no build): a config that imports 'cdc-cache' resolves to the sources
// through the package's `cdc-cache-source` export condition. The installed package runs dist/*.js.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
if (FROM_SOURCE)
  registerHooks({
    resolve: (specifier, context, next) =>
      next(specifier, { ...context, conditions: [...context.conditions, 'cdc-cache-source'] }),
  });

endQuietlyWhenStdoutCloses();
process.exitCode = await runCdcCache(process.argv.slice(2));
