/**
 * Offline synth helpers: a stack with a fixed account/region (no lookups), stub handler bundles in a
 * temp directory (the real ones come from `node functions/build.ts`), and rules used across specs.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CdcCacheConfig } from '../../core/rules/config.ts';
import { asInterface } from '../../infra/cdk/jsii-interop.ts';

/** A directory shaped like dist/functions: lambda/ with a stub entry per handler and a shared chunk. */
export function stubFunctionsDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-cdk-'));
  mkdirSync(join(dir, 'lambda', 'chunks'), { recursive: true });
  writeFileSync(join(dir, 'lambda', 'chunks', 'shared.mjs'), 'export const failures = () => [];\n');
  for (const h of ['dynamodb', 'kafka']) {
    writeFileSync(
      join(dir, 'lambda', `${h}.mjs`),
      "import { failures } from './chunks/shared.mjs';\nexport const handler = async () => ({ batchItemFailures: failures() });\n",
    );
  }
  return dir;
}

const dist = stubFunctionsDist();

/** Code of a stub handler bundle. */
export const stubCode = (_handler: 'dynamodb' | 'kafka'): lambda.Code =>
  lambda.Code.fromAsset(join(dist, 'lambda'));

/** A fresh app and stack, environment fixed so nothing is looked up. */
export function testStack(): { app: App; stack: Stack; vpc: ec2.IVpc } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdc-cache-cdk-out-')) });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = asInterface<ec2.IVpc>(new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }));
  return { app, stack, vpc };
}

/** Rules over one DynamoDB table and one Debezium table. */
export const RULES: CdcCacheConfig = {
  rules: [
    {
      table: 'Orders',
      source: 'dynamodb',
      keys: ['order:{pk}', { template: 'order:ref:{ref}', action: 'invalidate' }],
      refresh: { fields: ['pk', 'ref', 'total'] },
    },
    { table: 'Sessions', source: 'dynamodb', keys: ['session:{id}'] },
    { table: 'public.customers', source: 'debezium', keys: ['customer:{id}'], refresh: {} },
  ],
};
