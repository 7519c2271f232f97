/**
 * ACL SETUSER / DELUSER / WHOAMI / LIST / USERS over the users in acl.ts, with Valkey's replies and
 * error texts. SETUSER applies its rules to a copy and only then to the user itself, so a bad rule
 * changes nothing and connections already running as the user see the new rights at once. DELUSER
 * closes the connections authenticated as a deleted user, as Valkey does.
 *
 * On a non-loopback bind without enable-protected-configs, `nopass` is refused for every user: a
 * passwordless user would open the keyspace to the network the way removing requirepass would.
 */
import { type AclUser, applyRule, cloneUser, describeUser, newUser } from '../acl.ts';
import { type CommandContext, type CommandSpec, command, Err, ReplyError } from '../command-context.ts';

function setuser(ctx: CommandContext, table: Map<string, CommandSpec>, a: string[]): void {
  const name = a[2]!;
  const existing = ctx.server.users.get(name);
  const draft = existing ? cloneUser(existing) : newUser(name);
  const s = ctx.server;
  for (let i = 3; i < a.length; i++) {
    const rule = a[i]!;
    const fail = (why: string): never => {
      throw new ReplyError(`ERR Error in ACL SETUSER modifier '${rule.slice(0, 128)}': ${why}`);
    };
    if (rule.toLowerCase() === 'nopass' && !s.loopbackOnly && !s.enableProtectedConfigs)
      fail('a user without a password on a non-loopback bind needs enable-protected-configs');
    const why = applyRule(draft, rule, { table });
    if (why !== null) fail(why);
  }
  if (existing) Object.assign(existing, draft);
  else s.users.set(name, draft);
  ctx.w.simple('OK');
}

function deluser(ctx: CommandContext, a: string[]): void {
  let removed = 0;
  const gone = new Set<AclUser>();
  for (const name of a.slice(2)) {
    if (name === 'default') throw new ReplyError("ERR The 'default' user cannot be removed");
  }
  for (const name of a.slice(2)) {
    const u = ctx.server.users.get(name);
    if (u === undefined) continue;
    ctx.server.users.delete(name);
    gone.add(u);
    removed++;
  }
  ctx.w.int(removed);
  if (gone.size === 0) return;
  for (const c of [...ctx.server.clients.values()]) {
    if (gone.has(c.client.user)) {
      if (c.client === ctx.client) ctx.client.closeAfterReply = true;
      else c.kill();
    }
  }
}

/** Builds the ACL command over the final command table (rules name commands and categories). */
export function aclCommand(table: () => Map<string, CommandSpec>): CommandSpec {
  return command('acl', -2, [], [0, 0, 0], (ctx, a) => {
    const sub = a[1]!.toLowerCase();
    const arity = (n: number, exact: boolean): void => {
      if (exact ? a.length !== n : a.length < n) throw new ReplyError(Err.arity(`acl|${sub}`));
    };
    switch (sub) {
      case 'setuser':
        arity(3, false);
        return setuser(ctx, table(), a);
      case 'deluser':
        arity(3, false);
        return deluser(ctx, a);
      case 'whoami':
        arity(2, true);
        return ctx.w.bulk(ctx.client.user.name);
      case 'users': {
        arity(2, true);
        const names = [...ctx.server.users.keys()].sort();
        ctx.w.array(names.length);
        for (const n of names) ctx.w.bulk(n);
        return;
      }
      case 'list': {
        arity(2, true);
        const users = [...ctx.server.users.values()].sort((x, y) => (x.name < y.name ? -1 : 1));
        ctx.w.array(users.length);
        for (const u of users) ctx.w.bulk(describeUser(u, ctx.server.requirepass));
        return;
      }
      default:
        throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try ACL HELP.`);
    }
  });
}
