/**
 * The client-tracking subcommands of CLIENT: TRACKING, CACHING, GETREDIR, TRACKINGINFO, with
 * Valkey 8's replies and errors (checked side by side in test/integration/engine/tracking.test.ts).
 * The tracking table and the invalidations themselves are in ../tracking.ts.
 */
import { type CommandContext, Err, intArg, ReplyError } from '../command-context.ts';

/** Subcommand arities (Valkey's command table). */
const ARITY: Record<string, number> = { tracking: -3, caching: 3, getredir: 2, trackinginfo: 2 };

/** True when one prefix starts with the other (Valkey's stringCheckPrefix). */
function overlaps(a: string, b: string): boolean {
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

function tracking(ctx: CommandContext, a: string[]): void {
  let redirect = 0;
  let bcast = false;
  let optin = false;
  let optout = false;
  let noloop = false;
  const prefixes: string[] = [];
  for (let j = 3; j < a.length; j++) {
    const opt = a[j]!.toLowerCase();
    const more = j < a.length - 1;
    if (opt === 'redirect' && more) {
      j++;
      if (redirect !== 0) throw new ReplyError('ERR A client can only redirect to a single other client');
      redirect = intArg(a[j]!);
      if (!ctx.server.clients.has(redirect))
        throw new ReplyError('ERR The client ID you want redirect to does not exist');
    } else if (opt === 'bcast') bcast = true;
    else if (opt === 'optin') optin = true;
    else if (opt === 'optout') optout = true;
    else if (opt === 'noloop') noloop = true;
    else if (opt === 'prefix' && more) prefixes.push(a[++j]!);
    else throw new ReplyError(Err.syntax);
  }
  const mode = a[2]!.toLowerCase();
  const t = ctx.client.tracking;
  if (mode === 'on') {
    if (!bcast && prefixes.length > 0)
      throw new ReplyError('ERR PREFIX option requires BCAST mode to be enabled');
    if (t !== null && t.bcast !== bcast)
      throw new ReplyError(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
    if (bcast && (optin || optout))
      throw new ReplyError('ERR OPTIN and OPTOUT are not compatible with BCAST');
    if (optin && optout) throw new ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode");
    if (t !== null && ((optin && t.optout) || (optout && t.optin)))
      throw new ReplyError(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
    if (bcast) {
      for (let i = 0; i < prefixes.length; i++) {
        const p = prefixes[i]!;
        for (const existing of [...(t?.prefixes ?? [])].sort()) {
          if (overlaps(existing, p))
            throw new ReplyError(
              `ERR Prefix '${p}' overlaps with an existing prefix '${existing}'. Prefixes for a single client must not overlap.`,
            );
        }
        for (let j = i + 1; j < prefixes.length; j++) {
          if (overlaps(p, prefixes[j]!))
            throw new ReplyError(
              `ERR Prefix '${p}' overlaps with another provided prefix '${prefixes[j]}'. Prefixes for a single client must not overlap.`,
            );
        }
      }
    }
    ctx.server.tracking.enable(ctx.client, redirect, { bcast, optin, optout, noloop }, prefixes);
  } else if (mode === 'off') {
    ctx.server.tracking.disable(ctx.client);
  } else throw new ReplyError(Err.syntax);
  ctx.w.simple('OK');
}

function caching(ctx: CommandContext, a: string[]): void {
  const t = ctx.client.tracking;
  if (t === null)
    throw new ReplyError(
      'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled',
    );
  const opt = a[2]!.toLowerCase();
  if (opt === 'yes') {
    if (!t.optin)
      throw new ReplyError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  } else if (opt === 'no') {
    if (!t.optout)
      throw new ReplyError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  } else throw new ReplyError(Err.syntax);
  t.caching = true;
  ctx.w.simple('OK');
}

function trackingInfo(ctx: CommandContext): void {
  const w = ctx.w;
  const t = ctx.client.tracking;
  w.map(3);
  w.bulk('flags');
  if (t === null) {
    w.set(1);
    w.bulk('off');
  } else {
    const flags = ['on'];
    if (t.bcast) flags.push('bcast');
    if (t.optin) flags.push('optin');
    if (t.optin && t.caching) flags.push('caching-yes');
    if (t.optout) flags.push('optout');
    if (t.optout && t.caching) flags.push('caching-no');
    if (t.noloop) flags.push('noloop');
    if (t.brokenRedirect) flags.push('broken_redirect');
    w.set(flags.length);
    for (const f of flags) w.bulk(f);
  }
  w.bulk('redirect');
  w.int(t === null ? -1 : t.redirect);
  w.bulk('prefixes');
  const prefixes = t === null ? [] : [...t.prefixes].sort();
  w.array(prefixes.length);
  for (const p of prefixes) w.bulk(p);
}

/**
 * Runs CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO; returns false when `a[1]` is another
 * CLIENT subcommand (the caller handles it).
 */
export function trackingSubcommand(ctx: CommandContext, a: string[]): boolean {
  const sub = a[1]!.toLowerCase();
  const arity = ARITY[sub];
  if (arity === undefined) return false;
  if ((arity > 0 && a.length !== arity) || a.length < -arity)
    throw new ReplyError(Err.arity(`client|${sub}`));
  if (sub === 'tracking') tracking(ctx, a);
  else if (sub === 'caching') caching(ctx, a);
  else if (sub === 'getredir') ctx.w.int(ctx.client.tracking === null ? -1 : ctx.client.tracking.redirect);
  else trackingInfo(ctx);
  return true;
}
