/**
 * Failed-AUTH rate limiting, per connection: the first {@link AUTH_GUARD}.free failures answer at
 * once (a mistyped password costs nothing), every later one answers only after `delayMs` (the
 * connection runs nothing else meanwhile), and the `closeAfter`-th failure closes the connection
 * after its reply. So one connection tries at most `closeAfter` passwords, the last ones slowly,
 * instead of 150k per second. Every failure is counted (INFO stats `acl_access_denied_auth`, as in
 * Valkey).
 */
import { systemClock } from '../clock.ts';
import { type CommandContext, Err, ReplyError } from './command-context.ts';

/** The policy: free failures, delay after them (ms), failures that close the connection. */
export const AUTH_GUARD = { free: 3, delayMs: 200, closeAfter: 10 } as const;

/**
 * Records a failed AUTH on `ctx`'s connection and answers it: throws WRONGPASS at once, or returns
 * a Promise that rejects with it after the delay.
 */
export function rejectAuth(ctx: CommandContext): Promise<never> {
  const client = ctx.client;
  client.authFailures++;
  ctx.server.authFailures++;
  if (client.authFailures >= AUTH_GUARD.closeAfter) client.closeAfterReply = true;
  if (client.authFailures <= AUTH_GUARD.free) throw new ReplyError(Err.wrongPass);
  return new Promise<never>((_, reject) => {
    systemClock.setTimer(() => reject(new ReplyError(Err.wrongPass)), AUTH_GUARD.delayMs);
  });
}
