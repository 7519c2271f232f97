/** DynamoDB Local helpers shared by the tests: a table with a stream, the local credentials. */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The credentials DynamoDB Local accepts (any non-empty pair). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The partition key of a test table: its attribute name and type. */
export interface HashKey {
  name: string;
  type: 'S' | 'N';
}

/**
 * Creates `table` (on-demand, one hash key, `pk` of type S unless named) with a NEW_AND_OLD_IMAGES
 * stream and returns the stream's ARN.
 */
export async function createStreamTable(
  ddb: DynamoDBClient,
  table: string,
  key: HashKey = { name: 'pk', type: 'S' },
): Promise<string> {
  const created = await ddb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: key.name, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: key.name, AttributeType: key.type }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const arn = created.TableDescription?.LatestStreamArn;
  if (arn === undefined)
    throw new Error(`createStreamTable: table ${table} was created without a stream ARN`);
  return arn;
}
