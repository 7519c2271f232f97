/**
 * DynamoDB Streams decoding over real records (test/fixtures/dynamodb; origins in its README.md).
 */
import { describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../../core/decode/document.ts';
import { creationTimeMs, tableFromArn } from '../../../../core/decode/dynamodb.ts';
import { DecodeError } from '../../../../core/errors.ts';
import { fixture, fixtureText } from '../../../support/fixtures.ts';

describe('DynamoDB Streams decoder', () => {
  it('decodes the Lambda sample event: INSERT/MODIFY/REMOVE → create/update/delete, table from the ARN', () => {
    const events = decodeDocument(fixture('dynamodb/lambda-event-insert-modify-remove.json'));
    expect(events.map((e) => e.op)).toEqual(['create', 'update', 'delete']);
    const [c, u, d] = events;
    expect(c).toMatchObject({
      source: 'dynamodb',
      table: 'ExampleTableWithStream',
      namespace: null,
      key: { Id: 101 },
      before: null,
      after: { Message: 'New item!', Id: 101 },
      version: '4421584500000000017450439091',
      ts: 1428537600000,
    });
    expect(u?.before).toEqual({ Message: 'New item!', Id: 101 });
    expect(u?.after).toEqual({ Message: 'This item has changed', Id: 101 });
    expect(d?.after).toBeNull();
    expect(d?.ttlExpired).toBeUndefined();
  });

  it('decodes a GetRecords response with the table given (the records name none)', () => {
    expect(() => decodeDocument(fixture('dynamodb/getrecords-response.json'))).toThrow(/pass --table NAME/);
    const events = decodeDocument(fixture('dynamodb/getrecords-response.json'), { table: 'Forum' });
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ table: 'Forum', version: '300000000000000499659', ts: 1464804310000 });
  });

  it('flags TTL deletes (userIdentity Service / dynamodb.amazonaws.com)', () => {
    const [e] = decodeDocument(fixture('dynamodb/ttl-delete-record.json'));
    expect(e?.op).toBe('delete');
    expect(e?.ttlExpired).toBe(true);
  });

  it('decodes every AttributeValue type with exact numbers and base64 binary', () => {
    const [e] = decodeDocument(fixture('dynamodb/all-attribute-types.json'));
    const after = e!.after!;
    const text = JSON.stringify(after);
    expect(text).toContain('"sk":12345678901234567890');
    expect(text).toContain('"BeyondSafeInteger":9007199254740993');
    expect(text).toContain('"PreciseDecimal":0.1000000000000000055511151231257827');
    expect(text).toContain('"Counter":98765432109876543210');
    expect(Buffer.from(after.Binary as string, 'base64').toString()).toBe('this text is base64-encoded');
    expect(after.Binary).toBe('dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk');
    expect(after.StringSet).toEqual(['Giraffe', 'Hippo', 'Zebra']);
    expect(after.BinarySet).toEqual(['U3Vubnk=', 'UmFpbnk=', 'U25vd3k=']);
    expect(after.Null).toBeNull();
    expect(after.BoolFalse).toBe(false);
    expect(after.EmptyMap).toEqual({});
    expect(after.Number).toBe(123.45);
    expect(JSON.stringify(e!.key)).toBe('{"pk":"all-types","sk":12345678901234567890}');
  });

  it('covers the four StreamViewTypes: images present only where captured', () => {
    const keysOnly = decodeDocument(fixture('dynamodb/view-keys-only.json'), { table: 'T' })[0]!;
    expect([keysOnly.before, keysOnly.after]).toEqual([null, null]);
    expect(keysOnly.key).not.toBeNull();
    const newOnly = decodeDocument(fixture('dynamodb/view-new-image.json'), { table: 'T' })[0]!;
    expect(newOnly.before).toBeNull();
    expect(newOnly.after).not.toBeNull();
    const oldOnly = decodeDocument(fixture('dynamodb/view-old-image.json'))[0]!;
    expect(oldOnly.after).toBeNull();
    expect(oldOnly.before).not.toBeNull();
    const both = decodeDocument(fixture('dynamodb/view-new-and-old-images.json'))[0]!;
    expect(both.before).not.toBeNull();
    expect(both.after).not.toBeNull();
  });

  it('decodes DynamoDB records delivered through Kinesis Data Streams (version = Kinesis sequence number)', () => {
    const events = decodeDocument(fixture('dynamodb/lambda-kinesis-event.json'));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ op: 'create', key: { id: 'record-1qit2y819gi' }, ts: 1731924555370 });
    expect(events[0]!.version).toBe('49657828409187701520019995242508390119953358325192589314');
    expect(events[0]!.position).toMatchObject({ kind: 'kinesis' });
    const [bare] = decodeDocument(fixture('dynamodb/kinesis-ddb-record.json'));
    expect(bare).toMatchObject({
      table: 'PowertoolsEventsStack-DynamoDBTable59784FC0-8NKAMTERTAXY',
      version: '1731924555370',
    });
  });

  it('reads ApproximateCreationDateTime as Date, seconds (int or float), ms or ISO text', () => {
    expect(creationTimeMs(new Date(1428537600000))).toBe(1428537600000);
    expect(creationTimeMs(1428537600)).toBe(1428537600000);
    expect(creationTimeMs(1.46480431e9)).toBe(1464804310000);
    expect(creationTimeMs(1731924555370)).toBe(1731924555370);
    expect(creationTimeMs('2015-04-09T00:00:00Z')).toBe(1428537600000);
    expect(() => creationTimeMs('yesterday')).toThrow(DecodeError);
  });

  it('takes the table from table and stream ARNs', () => {
    expect(
      tableFromArn(
        'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899',
      ),
    ).toBe('ExampleTableWithStream');
  });

  it('rejects bad records with a typed error naming the record and the field', () => {
    const good = JSON.parse(fixtureText('dynamodb/lambda-event-insert-modify-remove.json'));
    good.Records[1].eventName = 'UPSERT';
    expect(() => decodeDocument(good)).toThrow(/Records\[1\]: unknown eventName "UPSERT"/);
    const noSeq = JSON.parse(fixtureText('dynamodb/lambda-event-insert-modify-remove.json'));
    delete noSeq.Records[0].dynamodb.SequenceNumber;
    delete noSeq.Records[0].dynamodb.ApproximateCreationDateTime;
    expect(() => decodeDocument(noSeq)).toThrow(/SequenceNumber/);
    const badImage = JSON.parse(fixtureText('dynamodb/lambda-event-insert-modify-remove.json'));
    badImage.Records[0].dynamodb.NewImage = 'oops';
    try {
      decodeDocument(badImage);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe('E_MISSING_FIELD');
      expect((e as DecodeError).retriable).toBe(false);
      expect((e as DecodeError).message).toMatch(/Records\[0\].*NewImage/);
    }
  });
});
