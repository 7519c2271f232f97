import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CdcCacheStack } from '../../../../infra/cdk/cdc-cache-stack.ts';
import { checkDeployConfig, type DeployConfig } from '../../../../infra/cdk/deploy-config.ts';
import { REPO_ROOT } from '../../../../infra/cdk/paths.ts';
import { RULES, stubCode, stubFunctionsDist } from '../../../support/synth-helpers.ts';

const MSK = {
  clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/cdc/11111111-2222-3333-4444-555555555555-1',
  clusterName: 'cdc',
};

const DEPLOY: DeployConfig = {
  rules: 'cdc-cache.config.json',
  env: { account: '123456789012', region: 'eu-west-1' },
  dynamodb: {
    tables: [
      { name: 'Orders', create: { partitionKey: 'pk' } },
      {
        name: 'Sessions',
        streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Sessions/stream/2026-01-01T00:00:00.000',
        streamViewType: 'KEYS_ONLY',
        keyAttributes: ['id'],
      },
    ],
  },
  kafka: { topics: ['dbserver1.public.customers'], msk: MSK },
  alarms: { email: 'ops@example.com' },
};

function synth(deploy: DeployConfig) {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdc-cache-cdk-out-')) });
  const stack = new CdcCacheStack(app, 'cdc-cache', {
    deploy,
    rules: RULES,
    functionCode: stubCode,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return Template.fromStack(stack);
}

describe('CdcCacheStack: the whole deployment from one config', () => {
  const template = synth(DEPLOY);

  it('makes the table with the stream view type its rules need (refresh + non-key key → both images)', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'Orders',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('maps both tables and the topic to their handlers, in the VPC next to the serverless cache', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Sessions/stream/2026-01-01T00:00:00.000',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
  });

  it('alarms on iterator age, Kafka offset lag, errors, dead letters and every failure queue, to the SNS topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);
    const metrics = alarms.map((a) => a.MetricName).sort();
    expect(metrics).toEqual(
      [
        'ApproximateNumberOfMessagesVisible', // DynamoDB poison records
        'ApproximateNumberOfMessagesVisible', // Orders on-failure
        'ApproximateNumberOfMessagesVisible', // Sessions on-failure
        'ApproximateNumberOfMessagesVisible', // Kafka poison records
        'ApproximateNumberOfMessagesVisible', // Kafka on-failure
        'cdc_cache_dead_letters_total',
        'cdc_cache_dead_letters_total',
        'Errors',
        'Errors',
        'IteratorAge',
        'OffsetLag',
      ].sort(),
    );
    const iteratorAge = alarms.find((a) => a.MetricName === 'IteratorAge')!;
    expect(iteratorAge).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Maximum', Threshold: 300_000 });
    const deadLetters = alarms.find((a) => a.MetricName === 'cdc_cache_dead_letters_total')!;
    expect(deadLetters).toMatchObject({ Namespace: 'cdc-cache', Threshold: 1 });
    // The EMF rollup over every code: the FunctionName-only dimension set (functions/runtime/metrics.ts).
    expect(deadLetters.Dimensions.map((d: { Name: string }) => d.Name)).toEqual(['FunctionName']);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
      expect(a.TreatMissingData).toBe('notBreaching');
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('an existing stream that captures less than the rules need fails the synth', () => {
    const weak: DeployConfig = {
      ...DEPLOY,
      dynamodb: {
        tables: [
          {
            name: 'Orders',
            streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000',
            streamViewType: 'NEW_IMAGE',
            keyAttributes: ['pk'],
          },
        ],
      },
    };
    const stack = new CdcCacheStack(new App(), 'weak', {
      deploy: weak,
      rules: RULES,
      functionCode: stubCode,
    });
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('need "both" images'));
    expect(errors).toHaveLength(1);
  });

  it('the consumer variant runs the Fargate consumer instead of the Kafka handler', () => {
    const t = synth({
      rules: DEPLOY.rules,
      kafka: {
        topics: ['dbserver1.public.customers'],
        msk: MSK,
        via: 'consumer',
        consumer: { brokers: ['b-1.cdc:9096'], image: 'ghcr.io/example/cdc-cache:1.0.0', ssl: true },
      },
    });
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    t.resourceCountIs('AWS::ECS::Service', 1);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SumOffsetLag', Threshold: 50_000 });
  });

  it('a table with `poller` is read by the Fargate poller with its lease table, not the handler', () => {
    const t = synth({
      rules: DEPLOY.rules,
      dynamodb: {
        tables: [
          {
            name: 'Orders',
            create: { partitionKey: 'pk' },
            poller: { shards: 4, tasks: 3, image: 'ghcr.io/example/cdc-cache:1.0.0' },
          },
        ],
      },
      alarms: { email: 'ops@example.com', iteratorAgeSeconds: 120 },
    });
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    t.resourceCountIs('AWS::Lambda::Function', 0);
    t.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'streamArn', KeyType: 'HASH' },
        { AttributeName: 'leaseKey', KeyType: 'RANGE' },
      ],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DynamoDbIteratorAgeSeconds',
      Dimensions: [{ Name: 'Table', Value: 'Orders' }],
      Threshold: 120,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
    const container = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0]!.Properties
      .ContainerDefinitions[0];
    expect(container.Environment).toEqual(
      expect.arrayContaining([{ Name: 'CDC_CACHE_DYNAMODB_TABLE', Value: 'Orders' }]),
    );
    // The view-type check runs for the poller too.
    const weak = new CdcCacheStack(new App(), 'weak-poller', {
      deploy: {
        rules: 'r.json',
        dynamodb: {
          tables: [
            {
              name: 'Orders',
              streamArn:
                'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000',
              streamViewType: 'NEW_IMAGE',
              keyAttributes: ['pk'],
              poller: { shards: 2, image: 'ghcr.io/example/cdc-cache:1.0.0' },
            },
          ],
        },
      },
      rules: RULES,
      functionCode: stubCode,
    });
    expect(
      Annotations.fromStack(weak).findError('*', Match.stringLikeRegexp('need "both" images')),
    ).toHaveLength(1);
    expect(() =>
      checkDeployConfig(
        {
          rules: 'r.json',
          dynamodb: {
            tables: [{ name: 'Orders', create: { partitionKey: 'pk' }, poller: { shards: 2, tasks: 3 } }],
          },
        },
        RULES,
        'd.json',
      ),
    ).toThrow(/dynamodb.tables\[0\].poller.tasks: at most poller.shards \(2\)/);
  });

  it('config mistakes name the field and the fix', () => {
    expect(() => checkDeployConfig({ rules: 'r.json' }, RULES, 'd.json')).toThrow(
      'd.json: dynamodb / kafka: give at least one source',
    );
    expect(() =>
      checkDeployConfig({ rules: 'r.json', dynamodb: { tables: [{ name: 'Orders' }] } }, RULES, 'd.json'),
    ).toThrow(/dynamodb.tables\[0\]: give either "create"/);
    expect(() =>
      checkDeployConfig(
        { rules: 'r.json', kafka: { topics: ['t'], msk: MSK, via: 'consumer' } },
        RULES,
        'd.json',
      ),
    ).toThrow(/kafka.consumer.brokers/);
  });
});

describe('app.ts: `npm run synth` offline, the consumer image as a Docker asset', () => {
  it('writes a cloud assembly with the stack and the image asset staged from infra/container', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-app-'));
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(RULES));
    const deploy: DeployConfig = {
      stackName: 'cdc-cache-test',
      rules: 'rules.json',
      env: { account: '123456789012', region: 'eu-west-1' },
      kafka: {
        topics: ['dbserver1.public.customers'],
        msk: MSK,
        via: 'consumer',
        consumer: { brokers: ['b-1.cdc:9096'] },
      },
    };
    writeFileSync(join(dir, 'deploy.json'), JSON.stringify(deploy));
    const out = join(dir, 'cdk.out');
    execFileSync(process.execPath, [join(REPO_ROOT, 'infra/cdk/app.ts')], {
      env: {
        ...process.env,
        CDK_OUTDIR: out,
        CDC_CACHE_DEPLOY_CONFIG: join(dir, 'deploy.json'),
        CDC_CACHE_FUNCTIONS_DIST: stubFunctionsDist(),
      },
      stdio: 'pipe',
      timeout: 60_000,
    });
    const assets = JSON.parse(readFileSync(join(out, 'cdc-cache-test.assets.json'), 'utf8'));
    const images = Object.values(assets.dockerImages) as {
      source: { directory: string; dockerFile: string };
    }[];
    expect(images).toHaveLength(1);
    const staged = join(out, images[0]!.source.directory);
    expect(images[0]!.source.dockerFile).toBe('infra/container/Dockerfile');
    expect(existsSync(join(staged, 'infra/container/Dockerfile'))).toBe(true);
    expect(existsSync(join(staged, 'consumers'))).toBe(true);
    expect(existsSync(join(staged, 'node_modules'))).toBe(false);
    expect(existsSync(join(staged, 'test'))).toBe(false);
    expect(existsSync(join(staged, '.git'))).toBe(false);
  }, 60_000);
});
