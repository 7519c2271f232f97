/**
 * ACL users, a deliberately small subset of Valkey's: enough that an application and the
 * change-stream writer can hold different rights (`AUTH user pass`, per-user commands and key
 * patterns), with Valkey's rule words and error texts.
 *
 * Rules (`ACL SETUSER name rule…`, applied in order): `on` `off` `>pass` `<pass` `nopass`
 * `resetpass` `~pattern` `allkeys` `resetkeys` `+cmd` `-cmd` `+@all` `-@all` `+@read` `-@read`
 * `+@write` `-@write` `allcommands` `nocommands` `reset`. Not supported (refused with Valkey's
 * "Syntax error" / "Unknown command or category name"): other categories, subcommand rules
 * (`+config|get`), selectors, channels (`&`), `#hash` passwords, read/write key permissions
 * (`%R~`). A rule on a command covers all its subcommands.
 *
 * The `default` user is the one `requirepass` configures: its password stays `requirepass`
 * (password rules on `default` are refused; use CONFIG SET requirepass), its commands and keys can
 * be narrowed like any user's.
 *
 * Invariant: a user is `unrestricted` exactly when it may run every command on every key, so the
 * dispatch hot path checks one boolean for the usual case.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { globMatch } from '../glob.ts';
import type { CommandSpec } from './command-context.ts';

/** One ACL user. */
export interface AclUser {
  readonly name: string;
  enabled: boolean;
  nopass: boolean;
  /** SHA-256 digests (hex) of the accepted passwords. */
  passwords: Set<string>;
  /** Command names the user may run (every name when `allCommands`). */
  commands: Set<string>;
  allCommands: boolean;
  /** The command rules as Valkey's ACL LIST prints them (`-@all +get +set`). */
  commandRules: string[];
  keyPatterns: string[];
  allKeys: boolean;
  /** True when every command on every key is allowed (no checks needed). */
  unrestricted: boolean;
}

/** Valkey's NOPERM texts. */
export const NoPerm = {
  command: (user: string, command: string) =>
    `NOPERM User ${user} has no permissions to run the '${command}' command`,
  key: 'NOPERM No permissions to access a key',
} as const;

const sha256 = (s: string): string => createHash('sha256').update(s, 'latin1').digest('hex');

/** A fresh user as `ACL SETUSER name` creates it: off, no passwords, no commands, no keys. */
export function newUser(name: string): AclUser {
  return {
    name,
    enabled: false,
    nopass: false,
    passwords: new Set(),
    commands: new Set(),
    allCommands: false,
    commandRules: ['-@all'],
    keyPatterns: [],
    allKeys: false,
    unrestricted: false,
  };
}

/** The `default` user before any rule: everything allowed. */
export function defaultUser(): AclUser {
  const u = newUser('default');
  u.enabled = true;
  u.allCommands = true;
  u.commandRules = ['+@all'];
  u.allKeys = true;
  u.keyPatterns = ['*'];
  u.unrestricted = true;
  return u;
}

/** Copies a user (SETUSER applies its rules to a copy, so a bad rule changes nothing). */
export function cloneUser(u: AclUser): AclUser {
  return {
    ...u,
    passwords: new Set(u.passwords),
    commands: new Set(u.commands),
    commandRules: [...u.commandRules],
    keyPatterns: [...u.keyPatterns],
  };
}

/** What a rule needs to know: the command table. */
export interface RuleContext {
  readonly table: Map<string, CommandSpec>;
}

function category(name: string, table: Map<string, CommandSpec>): string[] | null {
  const specs = [...new Set(table.values())];
  if (name === 'all') return specs.map((s) => s.name);
  if (name === 'read') return specs.filter((s) => s.flags.includes('readonly')).map((s) => s.name);
  if (name === 'write') return specs.filter((s) => s.flags.includes('write')).map((s) => s.name);
  return null;
}

/**
 * Applies one rule to `u`. Returns null, or the reason it was refused (Valkey's wording, to follow
 * `ERR Error in ACL SETUSER modifier '<rule>': `).
 */
export function applyRule(u: AclUser, rule: string, ctx: RuleContext): string | null {
  const lower = rule.toLowerCase();
  const isDefault = u.name === 'default';
  const passwordRule =
    lower === 'nopass' ||
    lower === 'resetpass' ||
    lower === 'reset' ||
    rule.startsWith('>') ||
    rule.startsWith('<');
  if (isDefault && passwordRule)
    return "the default user's password is requirepass: use CONFIG SET requirepass";
  if (lower === 'on') u.enabled = true;
  else if (lower === 'off') u.enabled = false;
  else if (lower === 'nopass') {
    u.nopass = true;
    u.passwords.clear();
  } else if (lower === 'resetpass') {
    u.nopass = false;
    u.passwords.clear();
  } else if (rule.startsWith('>')) {
    u.passwords.add(sha256(rule.slice(1)));
    u.nopass = false;
  } else if (rule.startsWith('<')) {
    if (!u.passwords.delete(sha256(rule.slice(1))))
      return 'The password you are trying to remove from the user does not exist';
  } else if (rule.startsWith('~')) {
    if (u.allKeys)
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    if (rule === '~*') {
      u.allKeys = true;
      u.keyPatterns = ['*'];
    } else u.keyPatterns.push(rule.slice(1));
  } else if (lower === 'allkeys') {
    u.allKeys = true;
    u.keyPatterns = ['*'];
  } else if (lower === 'resetkeys') {
    u.allKeys = false;
    u.keyPatterns = [];
  } else if (lower === 'allcommands' || lower === 'nocommands') {
    return applyRule(u, lower === 'allcommands' ? '+@all' : '-@all', ctx);
  } else if (lower === 'reset') {
    const fresh = newUser(u.name);
    Object.assign(u, fresh);
  } else if (rule.startsWith('+') || rule.startsWith('-')) {
    const add = rule.startsWith('+');
    const what = lower.slice(1);
    const names = what.startsWith('@')
      ? category(what.slice(1), ctx.table)
      : ctx.table.has(what) && !what.includes('|')
        ? [ctx.table.get(what)!.name]
        : null;
    if (names === null) return 'Unknown command or category name in ACL';
    if (what === '@all') {
      u.allCommands = add;
      u.commands = add ? new Set(names) : new Set();
      u.commandRules = [add ? '+@all' : '-@all'];
    } else {
      // A user that may run everything need not list the commands (the `default` user does not):
      // before taking one away, list all of them, or every command would be taken away.
      if (!add && u.allCommands) u.commands = new Set(category('all', ctx.table)!);
      for (const n of names) {
        if (add) u.commands.add(n);
        else u.commands.delete(n);
      }
      if (!add) u.allCommands = false;
      u.commandRules.push(`${add ? '+' : '-'}${what}`);
    }
  } else return 'Syntax error';
  u.unrestricted = u.allCommands && u.allKeys;
  return null;
}

/** True when `pass` is one of `u`'s passwords (or the user has nopass). */
export function userPasswordMatches(u: AclUser, pass: string): boolean {
  if (u.nopass) return true;
  const digest = Buffer.from(sha256(pass), 'hex');
  for (const p of u.passwords) if (timingSafeEqual(digest, Buffer.from(p, 'hex'))) return true;
  return false;
}

/** Whether `u` may run `spec` on `keys`: null, or the NOPERM reply (`shown` names the command). */
export function permissionError(u: AclUser, spec: CommandSpec, shown: string, keys: string[]): string | null {
  if (!u.allCommands && !u.commands.has(spec.name)) return NoPerm.command(u.name, shown);
  if (!u.allKeys) {
    for (const key of keys) {
      let ok = false;
      for (const p of u.keyPatterns) {
        if (globMatch(p, key)) {
          ok = true;
          break;
        }
      }
      if (!ok) return NoPerm.key;
    }
  }
  return null;
}

/** The ACL LIST line of `u` (`passwordDigest` for `default`, whose password is requirepass). */
export function describeUser(u: AclUser, defaultPassword?: string | null): string {
  const parts = ['user', u.name, u.enabled ? 'on' : 'off'];
  const digests =
    u.name === 'default' ? (defaultPassword ? [sha256(defaultPassword)] : []) : [...u.passwords];
  const nopass = u.name === 'default' ? !defaultPassword : u.nopass;
  if (nopass) parts.push('nopass');
  parts.push('sanitize-payload');
  for (const d of digests) parts.push(`#${d}`);
  for (const p of u.keyPatterns) parts.push(`~${p}`);
  parts.push(u.name === 'default' ? '&*' : 'resetchannels');
  parts.push(...u.commandRules);
  return parts.join(' ');
}
