/**
 * A DynamoDB Streams record as a change-log line: the GetRecords record as its wire JSON
 * (what a Lambda event carries), `ApproximateCreationDateTime` as epoch seconds (a number), binary
 * attributes as base64 strings, and the stream ARN as `eventSourceARN`. The one mapping from a
 * stream record to a line: record, the fixture capture and `verify --dynamodb-stream` use it.
 */
import type { _Record, AttributeValue } from '@aws-sdk/client-dynamodb-streams';

/** A DynamoDB Streams record in its wire JSON form (what a Lambda event or GetRecords carries). */
export type DynamoDbRecordJson = Record<string, unknown>;

function attributeToJson(value: AttributeValue): unknown {
  const v = value as unknown as Record<string, unknown>;
  if (v.B instanceof Uint8Array) return { B: Buffer.from(v.B).toString('base64') };
  if (Array.isArray(v.BS)) return { BS: v.BS.map((b: Uint8Array) => Buffer.from(b).toString('base64')) };
  if (Array.isArray(v.L)) return { L: v.L.map((x: AttributeValue) => attributeToJson(x)) };
  if (v.M && typeof v.M === 'object') return { M: imageToJson(v.M as Record<string, AttributeValue>) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined && k !== '$unknown') out[k] = x;
  return out;
}

function imageToJson(image: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image)) out[k] = attributeToJson(v);
  return out;
}

/**
 * Converts an SDK v3 GetRecords record into its wire JSON ({@link DynamoDbRecordJson}). With
 * `streamArn`, the line carries it as `eventSourceARN` (as a Lambda event record does): the table
 * is in the ARN, so the line decodes and replays without `--table`.
 */
export function dynamoDbRecordToJson(record: _Record, streamArn?: string): DynamoDbRecordJson {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined && k !== 'dynamodb') out[k] = v;
  const d = record.dynamodb;
  if (d) {
    const dyn: Record<string, unknown> = {};
    if (d.ApproximateCreationDateTime)
      dyn.ApproximateCreationDateTime = d.ApproximateCreationDateTime.getTime() / 1000;
    if (d.Keys) dyn.Keys = imageToJson(d.Keys);
    if (d.NewImage) dyn.NewImage = imageToJson(d.NewImage);
    if (d.OldImage) dyn.OldImage = imageToJson(d.OldImage);
    for (const k of ['SequenceNumber', 'SizeBytes', 'StreamViewType'] as const) {
      if (d[k] !== undefined) dyn[k] = d[k];
    }
    out.dynamodb = dyn;
  }
  if (streamArn !== undefined && out.eventSourceARN === undefined) out.eventSourceARN = streamArn;
  return out;
}
