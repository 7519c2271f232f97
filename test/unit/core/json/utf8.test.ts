/**
 * The UTF-8 rule (issue 14, item 9): bytes that are not valid UTF-8 make the record a dead letter
 * (E_BAD_UTF8), on every path that turns bytes into text — the Kafka consumer, Lambda Kafka base64
 * values, Kinesis payloads; a binary Kafka key is opaque; a leading byte-order mark is dropped.
 */
import { describe, expect, it } from 'vitest';
import { kafkaSourceRecord } from '../../../../consumers/kafka/kafka-record.ts';
import { splitDocument } from '../../../../core/decode/document.ts';
import { decodeUtf8 } from '../../../../core/json/utf8.ts';

const value = (name: Buffer) =>
  Buffer.concat([
    Buffer.from('{"op":"c","before":null,"after":{"id":1,"name":"'),
    name,
    Buffer.from('"},"source":{"connector":"postgresql","schema":"public","table":"users","lsn":10}}'),
  ]);
const BAD = Buffer.from([0x41, 0xff, 0x42]); // "A", a stray byte, "B"

describe('decodeUtf8', () => {
  it('decodes UTF-8, drops a leading BOM, and names the first bad byte otherwise', () => {
    expect(decodeUtf8(Buffer.from('\uFEFFé', 'utf8'), 'x')).toBe('é');
    expect(() => decodeUtf8(Buffer.from([0x7b, 0xe2, 0x82]), 'the Kafka value')).toThrow(
      /^the Kafka value is not valid UTF-8 \(at byte 1\)/,
    );
  });
});

describe('bytes that are not UTF-8', () => {
  it('a Kafka value (consumer path) is a dead letter, never U+FFFD', () => {
    const message = { key: null, value: value(BAD), offset: '7', timestamp: '0' };
    const record = kafkaSourceRecord('db.public.users', 0, message, {}, () => {});
    expect(() => record.decode()).toThrow(expect.objectContaining({ code: 'E_BAD_UTF8' }));
    const good = kafkaSourceRecord(
      'db.public.users',
      0,
      { ...message, value: value(Buffer.from('Zoë')) },
      {},
      () => {},
    );
    expect(good.decode()?.after).toEqual({ id: 1, name: 'Zoë' });
  });

  it('a binary Kafka key is opaque: the record still decodes, without key fields', () => {
    const message = {
      key: Buffer.from([0xc3, 0x28]),
      value: value(Buffer.from('a')),
      offset: '8',
      timestamp: '0',
    };
    expect(kafkaSourceRecord('db.public.users', 0, message, {}, () => {}).decode()?.key).toBeNull();
  });

  it('a Lambda Kafka base64 value is a dead letter', () => {
    const [record] = splitDocument({
      topic: 'db.public.users',
      partition: 0,
      offset: 3,
      timestampType: 'CREATE_TIME',
      key: null,
      value: value(BAD).toString('base64'),
    });
    expect(() => record!.decode()).toThrow(/db\.public\.users\/0@3: the Kafka value is not valid UTF-8/);
  });

  it('a Kinesis payload is a dead letter', () => {
    const [record] = splitDocument({
      eventSource: 'aws:kinesis',
      kinesis: { sequenceNumber: '1', data: BAD.toString('base64') },
    });
    expect(() => record!.decode()).toThrow(expect.objectContaining({ code: 'E_BAD_UTF8' }));
  });
});
