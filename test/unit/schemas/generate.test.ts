/**
 * The JSON Schemas in schemas/ are generated from the schemas the code validates with, are up to
 * date, and the examples (which reference them with `$schema`) validate against them, as an editor
 * would check them; the code accepts the same examples, and both refuse a typo.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import { resolveConsumerConfig } from '../../../consumers/runtime/consumer-config.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { loadDeployConfig } from '../../../infra/cdk/deploy-config.ts';
import { SCHEMAS, SCHEMAS_DIR, schemaText } from '../../../schemas/generate.ts';
import { ROOT } from '../../support/cli.ts';

// ajv is CommonJS: its class is the module's `default` export under Node's ESM interop.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule.default }).default;
const EXAMPLES: Record<string, string> = {
  'cdc-cache.config.schema.json': 'cdc-cache.config.json',
  'cdc-cache.consumer.schema.json': 'consumer.json',
  'cdc-cache.deploy.schema.json': 'cdc-cache.deploy.json',
};
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe.each(Object.keys(SCHEMAS))('%s', (name) => {
  const schema = read(join(SCHEMAS_DIR, name));
  const example = join(ROOT, 'examples', EXAMPLES[name]!);
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

  it('is up to date with its source schema (run `node schemas/generate.ts`)', () => {
    expect(readFileSync(join(SCHEMAS_DIR, name), 'utf8')).toBe(schemaText(name));
  });

  it('validates the example, which references it with $schema', () => {
    const doc = read(example);
    expect(doc.$schema).toBe(`../schemas/${name}`);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses a misspelt top-level option', () => {
    const doc = { ...read(example), targt: 'engine' };
    expect(validate(doc)).toBe(false);
    expect(validate.errors?.[0]?.keyword).toBe('additionalProperties');
  });
});

describe('the code accepts the same examples', () => {
  it('rules, consumer and deploy examples load', () => {
    expect(compileConfig(read(join(ROOT, 'examples', 'cdc-cache.config.json'))).rules).toHaveLength(2);
    const c = resolveConsumerConfig(
      read(join(ROOT, 'examples', 'consumer.json')),
      {},
      {},
      {
        name: 'examples/consumer.json',
        dir: join(ROOT, 'examples'),
      },
    );
    expect(c.kafka.groupId).toBe('orders-cache');
    expect(c.rules).toMatchObject({ path: join(ROOT, 'examples', 'cdc-cache.config.json') });
    expect(loadDeployConfig(join(ROOT, 'examples', 'cdc-cache.deploy.json')).config.stackName).toBe(
      'cdc-cache-example',
    );
  });
});
