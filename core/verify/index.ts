/**
 * The consistency verifier (`cdc-cache verify`, and a library for tests): sampling, expected cache
 * state, sources of truth, windows and nines. See verifier.ts for the semantics.
 */
export { type Expectation, type ExpectSpec, expectationsFor, type Judgement, judge } from './expected.ts';
export {
  formatReport,
  type Inconsistency,
  reportToJson,
  type VerifyReport,
  type WindowReport,
} from './report.ts';
export { canonicalKey, isSampled, rowIdentity, unitHash } from './sampling.ts';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.ts';
export {
  dynamodbTruth,
  type GetItem,
  postgresTruth,
  rowQuery,
  type SqlQuery,
  type TruthSource,
} from './truth.ts';
export {
  createVerifier,
  type Verifier,
  type VerifierOptions,
} from './verifier.ts';
export { type VerifyFullOptions, verifyFull } from './verify-full.ts';
export { formatDuration, nines, parseDuration, parseWindows, percentile } from './windows.ts';
