import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { ConsumerService, mskConsumerLag } from '../../../../infra/cdk/consumer-service.ts';
import { ServerlessValkey } from '../../../../infra/cdk/serverless-valkey.ts';
import { RULES, testStack } from '../../../support/synth-helpers.ts';

const TOPICS = ['dbserver1.public.customers', 'dbserver1.public.orders'];

describe('ConsumerService: the Kafka consumer on Fargate', () => {
  const { stack, vpc } = testStack();
  const valkey = new ServerlessValkey(stack, 'Valkey', { vpc });
  const kafkaSecret = secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'KafkaSecret',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_cdc-AbCdEf',
  );
  new ConsumerService(stack, 'Consumer', {
    vpc,
    image: ecs.ContainerImage.fromRegistry('ghcr.io/example/cdc-cache:1.0.0'),
    cache: valkey.connection(),
    rules: RULES,
    kafka: {
      brokers: ['b-1.cdc.kafka.eu-west-1.amazonaws.com:9096'],
      topics: TOPICS,
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', secret: kafkaSecret },
    },
    lagMetric: mskConsumerLag({ clusterName: 'cdc', consumerGroup: 'cdc-cache', topics: TOPICS }),
    scaling: { minTasks: 2, maxTasks: 6 },
  });
  const template = Template.fromStack(stack);

  it('runs `consume kafka` with the rules inline and the Kafka/target settings in the environment', () => {
    const defs = template.findResources('AWS::ECS::TaskDefinition');
    const container = Object.values(defs)[0]!.Properties.ContainerDefinitions[0];
    expect(container.Image).toBe('ghcr.io/example/cdc-cache:1.0.0');
    // The image's entry point (node bin/cdc-cache.ts) runs as PID 1: no shell start script.
    expect(container.EntryPoint).toBeUndefined();
    expect(container.Command).toEqual(['consume', 'kafka', '--no-progress']);
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({
      CDC_CACHE_KAFKA_BROKERS: 'b-1.cdc.kafka.eu-west-1.amazonaws.com:9096',
      CDC_CACHE_KAFKA_TOPICS: TOPICS.join(','),
      CDC_CACHE_KAFKA_GROUP_ID: 'cdc-cache',
      CDC_CACHE_KAFKA_SSL: 'true',
      CDC_CACHE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      CDC_CACHE_TARGET_USERNAME: 'cdc-cache',
      CDC_CACHE_RULES: JSON.stringify(RULES),
    });
    expect(JSON.stringify(env)).not.toMatch(/CDC_CACHE_TARGET_PASSWORD/);
  });

  it('injects the target password and the SASL credentials from Secrets Manager', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: Match.arrayWith([
            {
              Name: 'CDC_CACHE_TARGET_PASSWORD',
              ValueFrom: {
                'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^ValkeyUserSecret') }, ':password::']],
              },
            },
            {
              Name: 'CDC_CACHE_KAFKA_SASL_USERNAME',
              ValueFrom: Match.stringLikeRegexp('AmazonMSK_cdc-AbCdEf:username::$'),
            },
            {
              Name: 'CDC_CACHE_KAFKA_SASL_PASSWORD',
              ValueFrom: Match.stringLikeRegexp('AmazonMSK_cdc-AbCdEf:password::$'),
            },
          ]),
        }),
      ],
    });
  });

  it('checks health on /livez, gives the drain time to stop, and logs to CloudWatch', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [
        Match.objectLike({
          HealthCheck: Match.objectLike({
            Command: Match.arrayWith(['CMD', 'node', Match.stringLikeRegexp('127\\.0\\.0\\.1:9464/livez')]),
            Interval: 15,
            Retries: 3,
            StartPeriod: 30,
          }),
          StopTimeout: 60,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
  });

  it('runs as a Fargate service in private subnets with a rollback circuit breaker', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }),
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ValkeySecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsumerSecurityGroup'), 'GroupId'] },
      FromPort: 6379,
    });
  });

  it('scales between min and max tasks in steps on the MSK consumer lag of its group', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({ AdjustmentType: 'ChangeInCapacity' }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 't0 + t1' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'AWS/Kafka',
              MetricName: 'SumOffsetLag',
              Dimensions: Match.arrayWith([
                { Name: 'Consumer Group', Value: 'cdc-cache' },
                { Name: 'Topic', Value: 'dbserver1.public.orders' },
              ]),
            },
          }),
        }),
      ]),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 10000,
    });
  });
});
