/**
 * Generates the JSON Schemas of the three config files from the schemas the code validates with
 * (one definition each, on valibot): `node schemas/generate.ts` writes them here; the test
 * test/unit/schemas/generate.test.ts fails when a file is stale. Reference them with `$schema`
 * (`"$schema": "./node_modules/cdc-cache/schemas/cdc-cache.consumer.schema.json"`) so editors
 * complete and check the files.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { consumerFileSchema } from '../consumers/runtime/consumer-config-schema.ts';
import { rulesFileSchema } from '../core/rules/rules-schema.ts';
import { deployFileSchema } from '../infra/cdk/deploy-schema.ts';

/** The generated schemas: file name → [title, source schema]. */
export const SCHEMAS: Record<string, [string, v.GenericSchema]> = {
  'cdc-cache.config.schema.json': ['cdc-cache rules config (cdc-cache.config.json)', rulesFileSchema],
  'cdc-cache.consumer.schema.json': [
    'cdc-cache consumer config (--consumer-config, CDC_CACHE_CONSUMER_CONFIG)',
    consumerFileSchema,
  ],
  'cdc-cache.deploy.schema.json': ['cdc-cache deployment config (cdc-cache.deploy.json)', deployFileSchema],
};

/** The text of one generated schema file. */
export function schemaText(name: string): string {
  const [title, schema] = SCHEMAS[name]!;
  // Input types: what a person writes (a comma-separated brokers string is allowed, for example);
  // checks that JSON Schema cannot say (a regex's syntax, did-you-mean) stay with the code.
  const json = toJsonSchema(schema, { typeMode: 'input', errorMode: 'ignore' });
  const { $schema: _draft, ...rest } = json;
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title, ...rest }, null, 2)}\n`;
}

/** This folder. */
export const SCHEMAS_DIR = dirname(fileURLToPath(import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of Object.keys(SCHEMAS)) {
    writeFileSync(join(SCHEMAS_DIR, name), schemaText(name));
    process.stdout.write(`wrote schemas/${name}\n`);
  }
}
