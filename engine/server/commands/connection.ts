/**
 * Connection commands: PING ECHO HELLO AUTH SELECT CLIENT QUIT RESET. HELLO switches the reply
 * protocol (RESP2/RESP3) for the connection; AUTH checks `requirepass` for `default` and the ACL
 * users' passwords for the others (acl.ts), and
 * failed attempts are rate-limited per connection (auth-guard.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import { type AclUser, userPasswordMatches } from '../acl.ts';
import { rejectAuth } from '../auth-guard.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { clientInfoLine, SERVER_VERSION } from './info-text.ts';
import { trackingSubcommand } from './tracking.ts';
import { endTransaction } from './transactions.ts';

function ping(ctx: CommandContext, a: string[]): void {
  if (a.length > 2) throw new ReplyError(Err.arity('ping'));
  if (ctx.client.pubsub !== null && ctx.w.resp === 2) {
    // Subscribed mode in RESP2: Valkey answers like a message, ["pong", arg or ""].
    ctx.w.array(2);
    ctx.w.bulk('pong');
    ctx.w.bulk(a.length === 2 ? a[1]! : '');
    return;
  }
  if (a.length === 2) ctx.w.bulk(a[1]!);
  else ctx.w.simple('PONG');
}

/** The user `user`/`pass` authenticate as, or null (unknown, disabled or wrong password). */
function authenticate(ctx: CommandContext, user: string, pass: string): AclUser | null {
  const u = ctx.server.users.get(user);
  if (u === undefined || !u.enabled) return null;
  if (user !== 'default') return userPasswordMatches(u, pass) ? u : null;
  const required = ctx.server.requirepass;
  if (required === null) return u;
  const a = Buffer.from(pass, 'latin1');
  const b = Buffer.from(required, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b) ? u : null;
}

function auth(ctx: CommandContext, a: string[]): void | Promise<void> {
  if (a.length > 3) throw new ReplyError(Err.syntax);
  if (a.length === 2 && ctx.server.requirepass === null) {
    throw new ReplyError(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  const user = authenticate(ctx, a.length === 3 ? a[1]! : 'default', a[a.length - 1]!);
  if (user === null) return rejectAuth(ctx);
  ctx.client.user = user;
  ctx.client.authenticated = true;
  ctx.w.simple('OK');
}

function hello(ctx: CommandContext, a: string[]): void | Promise<void> {
  let proto = ctx.w.resp;
  let i = 1;
  if (a.length > 1) {
    const v = parseI64(a[1]!);
    if (v === null) throw new ReplyError('ERR Protocol version is not an integer or out of range');
    if (v < 2n || v > 3n) throw new ReplyError('NOPROTO unsupported protocol version');
    proto = Number(v) as 2 | 3;
    i = 2;
  }
  let name: string | undefined;
  for (; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'auth' && i + 2 < a.length) {
      const user = authenticate(ctx, a[i + 1]!, a[i + 2]!);
      if (user === null) return rejectAuth(ctx);
      ctx.client.user = user;
      ctx.client.authenticated = true;
      i += 2;
    } else if (opt === 'setname' && i + 1 < a.length) {
      name = a[++i]!;
      checkClientName(name);
    } else throw new ReplyError(`ERR Syntax error in HELLO option '${a[i]}'`);
  }
  if (!ctx.client.authenticated)
    throw new ReplyError(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  if (name !== undefined) ctx.client.name = name;
  ctx.w.resp = proto;
  ctx.w.map(7);
  ctx.w.bulk('server');
  ctx.w.bulk('valkey');
  ctx.w.bulk('version');
  ctx.w.bulk(SERVER_VERSION);
  ctx.w.bulk('proto');
  ctx.w.int(proto);
  ctx.w.bulk('id');
  ctx.w.int(ctx.client.id);
  ctx.w.bulk('mode');
  ctx.w.bulk('standalone');
  ctx.w.bulk('role');
  ctx.w.bulk('master');
  ctx.w.bulk('modules');
  ctx.w.array(0);
}

function select(ctx: CommandContext, a: string[]): void {
  const n = parseI64(a[1]!);
  if (n === null) throw new ReplyError(Err.notInteger);
  if (n !== 0n) throw new ReplyError(Err.dbRange);
  ctx.w.simple('OK');
}

function checkClientName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) {
      throw new ReplyError('ERR Client names cannot contain spaces, newlines or special characters.');
    }
  }
}

function client(ctx: CommandContext, a: string[]): void {
  if (trackingSubcommand(ctx, a)) return;
  const sub = a[1]!.toLowerCase();
  const argc = a.length;
  if (sub === 'setname' && argc === 3) {
    checkClientName(a[2]!);
    ctx.client.name = a[2]!;
    ctx.w.simple('OK');
    return;
  }
  if (sub === 'getname' && argc === 2) {
    if (ctx.client.name === '') ctx.w.nil();
    else ctx.w.bulk(ctx.client.name);
    return;
  }
  if (sub === 'id' && argc === 2) {
    ctx.w.int(ctx.client.id);
    return;
  }
  if (sub === 'info' && argc === 2) {
    ctx.w.verbatim(`${clientInfoLine(ctx.client, ctx.w.resp)}\n`);
    return;
  }
  if (sub === 'list' && argc === 2) {
    let text = '';
    for (const { client: c, w } of ctx.server.clients.values()) text += `${clientInfoLine(c, w.resp)}\n`;
    ctx.w.verbatim(text);
    return;
  }
  if (sub === 'setinfo' && argc === 4) {
    ctx.w.simple('OK');
    return;
  }
  // CLIENT KILL ID <id> (the new-style filter form, ID only): the number of clients closed.
  if (sub === 'kill' && argc === 4 && a[2]!.toLowerCase() === 'id') {
    const id = parseI64(a[3]!);
    if (id === null || id <= 0n) throw new ReplyError('ERR client-id should be greater than 0');
    const entry = ctx.server.clients.get(Number(id));
    if (entry === undefined) {
      ctx.w.int(0);
      return;
    }
    ctx.w.int(1);
    if (entry.client === ctx.client) ctx.client.closeAfterReply = true;
    else entry.kill();
    return;
  }
  // NO-EVICT is accepted for tools that send it (the engine does not evict clients by memory rank:
  // engine/README.md); NO-TOUCH stops this client's commands from counting as LRU/LFU accesses.
  if ((sub === 'no-evict' || sub === 'no-touch') && argc === 3) {
    const v = a[2]!.toLowerCase();
    if (v !== 'on' && v !== 'off') throw new ReplyError(Err.syntax);
    if (sub === 'no-touch') ctx.client.noTouch = v === 'on';
    ctx.w.simple('OK');
    return;
  }
  if (['setname', 'getname', 'id', 'info', 'list', 'setinfo', 'no-evict', 'no-touch'].includes(sub)) {
    throw new ReplyError(Err.arity(`client|${sub}`));
  }
  throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try CLIENT HELP.`);
}

function quit(ctx: CommandContext): void {
  ctx.client.closeAfterReply = true;
  ctx.w.simple('OK');
}

function reset(ctx: CommandContext): void {
  ctx.server.pubsub.removeClient(ctx.client);
  ctx.server.tracking.disable(ctx.client);
  endTransaction(ctx.client, ctx.core);
  ctx.w.resp = 2;
  ctx.client.name = '';
  ctx.client.user = ctx.server.users.get('default')!;
  ctx.client.authenticated = ctx.server.requirepass === null && ctx.client.user.enabled;
  ctx.w.simple('RESET');
}

const none = [0, 0, 0] as const;

/** The connection command specs. */
export const connectionCommands: CommandSpec[] = [
  command('ping', -1, ['fast'], none, ping),
  command('echo', 2, ['fast'], none, (ctx, a) => ctx.w.bulk(a[1]!)),
  command('hello', -1, ['noauth', 'fast'], none, hello),
  command('auth', -2, ['noauth', 'fast'], none, auth),
  command('select', 2, ['fast'], none, select),
  command('client', -2, [], none, client),
  command('quit', -1, ['noauth', 'fast'], none, quit),
  command('reset', 1, ['noauth', 'fast'], none, reset),
];
