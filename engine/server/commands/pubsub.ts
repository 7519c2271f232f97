/**
 * Pub/Sub commands: SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB (CHANNELS NUMSUB
 * NUMPAT SHARDCHANNELS SHARDNUMSUB HELP), replies byte-identical to Valkey 8 in RESP2 (arrays) and
 * RESP3 (pushes). The subscribed-mode restriction of RESP2 is applied by dispatch
 * ({@link subscribedModeError}); the hub is pubsub.ts.
 */
import { globMatch } from '../../glob.ts';
import { type CommandContext, type CommandSpec, command, Err, ReplyError } from '../command-context.ts';
import { subscriptionCount } from '../pubsub.ts';

/** Commands a RESP2 client in subscribed mode may still run. */
const ALLOWED_WHEN_SUBSCRIBED = new Set([
  'ping',
  'subscribe',
  'ssubscribe',
  'unsubscribe',
  'sunsubscribe',
  'psubscribe',
  'punsubscribe',
  'quit',
  'reset',
]);

/**
 * Valkey's refusal of `fullName` (e.g. `get`, `client|id`) for a RESP2 client in subscribed mode,
 * or null when the command is allowed.
 */
export function subscribedModeError(name: string, fullName: string): string | null {
  if (ALLOWED_WHEN_SUBSCRIBED.has(name)) return null;
  return `ERR Can't execute '${fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

/** One subscribe/unsubscribe confirmation: `[kind, name|null, count]` as a push (array in RESP2). */
function confirm(ctx: CommandContext, kind: string, name: string | null): void {
  const w = ctx.w;
  w.push(3);
  w.bulk(kind);
  if (name === null) w.nil();
  else w.bulk(name);
  w.int(subscriptionCount(ctx.client));
}

function subscribe(pattern: boolean) {
  const kind = pattern ? 'psubscribe' : 'subscribe';
  return (ctx: CommandContext, a: string[]): void => {
    for (let i = 1; i < a.length; i++) {
      ctx.server.pubsub.subscribe(ctx.client, a[i]!, pattern);
      confirm(ctx, kind, a[i]!);
    }
  };
}

function unsubscribe(pattern: boolean) {
  const kind = pattern ? 'punsubscribe' : 'unsubscribe';
  return (ctx: CommandContext, a: string[]): void => {
    const client = ctx.client;
    if (client.pubsub === null)
      throw new ReplyError(`NOSUB '${kind}' command executed not in subscribed mode`);
    const hub = ctx.server.pubsub;
    if (a.length > 1) {
      for (let i = 1; i < a.length; i++) {
        hub.unsubscribe(client, a[i]!, pattern);
        confirm(ctx, kind, a[i]!);
      }
      return;
    }
    const names = [...(pattern ? client.pubsub.patterns : client.pubsub.channels)];
    if (names.length === 0) {
      confirm(ctx, kind, null);
      return;
    }
    for (const name of names) {
      hub.unsubscribe(client, name, pattern);
      confirm(ctx, kind, name);
    }
  };
}

function publish(ctx: CommandContext, a: string[]): void {
  ctx.w.int(ctx.server.pubsub.publish(a[1]!, a[2]!));
}

const HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Print this help.',
];

/** Subcommand arities (Valkey's command table): exact n, or at least -n. */
const SUB_ARITY: Record<string, number> = {
  channels: -2,
  numsub: -2,
  numpat: 2,
  shardchannels: -2,
  shardnumsub: -2,
  help: 2,
};

function pubsub(ctx: CommandContext, a: string[]): void {
  const sub = a[1]!.toLowerCase();
  const arity = SUB_ARITY[sub];
  if (arity === undefined)
    throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try PUBSUB HELP.`);
  if ((arity > 0 && a.length !== arity) || a.length < -arity)
    throw new ReplyError(Err.arity(`pubsub|${sub}`));
  const w = ctx.w;
  const hub = ctx.server.pubsub;
  switch (sub) {
    case 'channels':
    case 'shardchannels': {
      if (a.length > 3)
        throw new ReplyError(
          `ERR unknown subcommand or wrong number of arguments for '${a[1]!.slice(0, 128)}'. Try PUBSUB HELP.`,
        );
      // No cluster: there are no shard channels.
      const names = sub === 'channels' ? [...hub.channels.keys()] : [];
      const out = a.length === 3 ? names.filter((n) => globMatch(a[2]!, n)) : names;
      w.array(out.length);
      for (const n of out) w.bulk(n);
      return;
    }
    case 'numsub':
    case 'shardnumsub':
      w.array((a.length - 2) * 2);
      for (let i = 2; i < a.length; i++) {
        w.bulk(a[i]!);
        w.int(sub === 'numsub' ? (hub.channels.get(a[i]!)?.size ?? 0) : 0);
      }
      return;
    case 'numpat':
      w.int(hub.patterns.size);
      return;
    default:
      w.array(HELP.length);
      for (const line of HELP) w.simple(line);
  }
}

const none = [0, 0, 0] as const;

/** The Pub/Sub command specs. */
export const pubsubCommands: CommandSpec[] = [
  command('subscribe', -2, ['fast'], none, subscribe(false)),
  command('psubscribe', -2, ['fast'], none, subscribe(true)),
  command('unsubscribe', -1, ['fast'], none, unsubscribe(false)),
  command('punsubscribe', -1, ['fast'], none, unsubscribe(true)),
  command('publish', 3, ['fast'], none, publish),
  command('pubsub', -2, [], none, pubsub),
];
