/**
 * Which Valkey replies are the record's fault (not retriable: its records become dead letters) and
 * which are the server's state or our credentials (retriable: the checkpoint waits). Issue 14, item 8.
 */
import { describe, expect, it } from 'vitest';
import {
  isRetriableClientError,
  isRetriableReply,
  toTargetError,
} from '../../../../../core/targets/resp/reply-errors.ts';

const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('toTargetError', () => {
  it.each([
    'LOADING Valkey is loading the dataset in memory',
    'NOAUTH Authentication required.',
    'WRONGPASS invalid username-password pair or user is disabled.',
    "NOPERM User cdc has no permissions to run the 'evalsha' command",
    'MISCONF Valkey is configured to save RDB snapshots, but it is currently unable to persist to disk.',
    'ERR max number of clients reached',
    'TRYAGAIN Multiple keys request during rehashing of slot',
  ])('%s → retriable (server state, not the record)', (message) => {
    expect(toTargetError(reply(message)).retriable).toBe(true);
  });

  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  ])('%s → not retriable (the record: a dead letter)', (message) => {
    expect(toTargetError(reply(message)).retriable).toBe(false);
  });

  it('a connection error is retriable', () => {
    expect(toTargetError(new Error('connect ECONNREFUSED 127.0.0.1:1')).retriable).toBe(true);
  });
});

describe('the one retriable-reply table (Valkey and the engine over RESP)', () => {
  it('matches an error code as a whole word only', () => {
    expect(isRetriableReply('OOM command not allowed')).toBe(true);
    expect(isRetriableReply('OOMKILLED something')).toBe(false);
    expect(isRetriableReply('ASKING is not an error')).toBe(false);
    expect(isRetriableReply('ERR unknown command')).toBe(false);
  });

  it('a command aborted by a closing connection is retriable: the server never judged the record', () => {
    // iovalkey's AbortError carries `command`, like a reply error; the engine-remote adapter used to
    // take any error with `command` for a reply, which made a connection loss a dead letter.
    const aborted = Object.assign(new Error('Command aborted due to connection close'), {
      name: 'AbortError',
      command: { name: 'CACHE.REFRESH', args: [] },
    });
    expect(isRetriableClientError(aborted)).toBe(true);
    expect(isRetriableClientError(reply('WRONGTYPE Operation against a key'))).toBe(false);
  });
});
