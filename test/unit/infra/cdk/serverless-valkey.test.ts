import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CacheFunction } from '../../../../infra/cdk/cache-function.ts';
import { ServerlessValkey } from '../../../../infra/cdk/serverless-valkey.ts';
import { RULES, stubCode, testStack } from '../../../support/synth-helpers.ts';

describe('ServerlessValkey: ElastiCache Serverless for Valkey, and a handler wired to it', () => {
  const { stack, vpc } = testStack();
  const valkey = new ServerlessValkey(stack, 'Valkey', {
    vpc,
    usageLimits: { maxDataStorageGb: 5, maxEcpuPerSecond: 5000 },
  });
  new CacheFunction(stack, 'Handler', {
    handler: 'dynamodb',
    code: stubCode('dynamodb'),
    cache: valkey.connection(),
    vpc,
    rules: RULES,
  });
  const template = Template.fromStack(stack);

  it('makes a Valkey 8 serverless cache in private subnets behind its security group, with the user group', () => {
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      MajorEngineVersion: '8',
      SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') }]),
      SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ValkeySecurityGroup'), 'GroupId'] }],
      UserGroupId: Match.stringLikeRegexp('^test-valkey-users$'),
      CacheUsageLimits: { DataStorage: { Maximum: 5, Unit: 'GB' }, ECPUPerSecond: { Maximum: 5000 } },
    });
  });

  it('makes a password user (password from Secrets Manager) in a valkey user group', () => {
    template.hasResourceProperties('AWS::ElastiCache::User', {
      Engine: 'valkey',
      UserName: 'cdc-cache',
      AccessString: 'on ~* &* +@all',
      AuthenticationMode: {
        Type: 'password',
        Passwords: [
          {
            'Fn::Join': [
              '',
              Match.arrayWith([
                Match.stringLikeRegexp('resolve:secretsmanager:'),
                ':SecretString:password::}}',
              ]),
            ],
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::ElastiCache::UserGroup', {
      Engine: 'valkey',
      UserIds: [Match.stringLikeRegexp('-user$')],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', ExcludePunctuation: true }),
    });
  });

  it('admits the handler to the cache ports (6379–6380) and nothing else', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ValkeySecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HandlerSecurityGroup'), 'GroupId'] },
      FromPort: 6379,
      ToPort: 6380,
      IpProtocol: 'tcp',
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('ElastiCache Serverless'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('runs the handler in the VPC with TLS target, ACL user and the password as a secret reference', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'dynamodb.handler',
      VpcConfig: {
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^HandlerSecurityGroup'), 'GroupId'] }],
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') }]),
      },
      Environment: {
        Variables: Match.objectLike({
          CDC_CACHE_TARGET: {
            'Fn::Join': [
              '',
              [
                'valkeys://',
                { 'Fn::GetAtt': [Match.stringLikeRegexp('^ValkeyCache'), 'Endpoint.Address'] },
                ':',
                { 'Fn::GetAtt': [Match.stringLikeRegexp('^ValkeyCache'), 'Endpoint.Port'] },
                '?cluster=true',
              ],
            ],
          },
          CDC_CACHE_TARGET_USERNAME: 'cdc-cache',
          CDC_CACHE_TARGET_PASSWORD_SECRET_ARN: { Ref: Match.stringLikeRegexp('^ValkeyUserSecret') },
          CDC_CACHE_RULES: JSON.stringify(RULES),
          CDC_CACHE_DEAD_LETTER: { Ref: Match.stringLikeRegexp('^HandlerPoisonRecords') },
        }),
      },
    });
  });

  it('gives the handler the secret ARN and read permission on it, never the password', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: { Ref: Match.stringLikeRegexp('^ValkeyUserSecret') },
          }),
        ]),
      },
    });
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const vars = JSON.stringify(fn.Properties.Environment?.Variables ?? {});
      expect(vars).not.toContain('resolve:secretsmanager');
      expect(vars).not.toMatch(/CDC_CACHE_TARGET_PASSWORD"/);
    }
  });
});
