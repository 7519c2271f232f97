/**
 * The CDK app: `node infra/cdk/app.ts` (or `cdk synth|deploy` from infra/cdk/) builds the cdc-cache
 * stack from a deployment config: `-c config=PATH`, else CDC_CACHE_DEPLOY_CONFIG, else
 * ./cdc-cache.deploy.json in the repository root. The assembly goes to infra/cdk.out (gitignored).
 */
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CdcCacheStack } from './cdc-cache-stack.ts';
import { loadDeployConfig } from './deploy-config.ts';
import { CDK_OUT, REPO_ROOT } from './paths.ts';

const app = new App({ outdir: process.env.CDK_OUTDIR ?? CDK_OUT });
const fromContext = app.node.tryGetContext('config') as string | undefined;
const path = resolve(
  fromContext ?? process.env.CDC_CACHE_DEPLOY_CONFIG ?? join(REPO_ROOT, 'cdc-cache.deploy.json'),
);
let loaded: ReturnType<typeof loadDeployConfig>;
try {
  loaded = loadDeployConfig(path);
} catch (error) {
  process.stderr.write(`cdc-cache deploy: ${(error as Error).message}\n`);
  process.exit(1);
}
const { config, rules } = loaded;
const account = config.env?.account ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = config.env?.region ?? process.env.CDK_DEFAULT_REGION;
new CdcCacheStack(app, config.stackName ?? 'cdc-cache', {
  deploy: config,
  rules,
  ...(account !== undefined || region !== undefined
    ? { env: { ...(account !== undefined ? { account } : {}), ...(region !== undefined ? { region } : {}) } }
    : {}),
  description: 'cdc-cache: change streams → cache invalidation/refresh',
});
const assembly = app.synth();
// `cdk synth` fails on error annotations (a stream that captures less than the rules need);
// `node infra/cdk/app.ts` (npm run synth) does the same here.
for (const stack of assembly.stacks) {
  for (const m of stack.messages) {
    if (m.level !== 'error') continue;
    process.stderr.write(`error: ${m.id}: ${String(m.entry.data)}\n`);
    process.exitCode = 1;
  }
}
