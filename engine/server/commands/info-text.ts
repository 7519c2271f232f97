/**
 * Text builders for INFO and CLIENT INFO/LIST: Valkey's `field:value` sections and the client line
 * format, with the fields clients and operators read (redis_version, loading, used_memory, …).
 */
import { formatBytes, heapSizeLimit, oldGenerationLimit } from '../../memory.ts';
import type { ClientState, CommandContext } from '../command-context.ts';
import { blockedClients } from './blocking.ts';

/** The Valkey version this engine's protocol surface mirrors. */
export const SERVER_VERSION = '8.0.1';
/** What `redis_version` reports (Valkey 8 reports 7.2.4 for compatibility). */
export const REDIS_COMPAT_VERSION = '7.2.4';

/** One CLIENT INFO / CLIENT LIST line. */
export function clientInfoLine(c: ClientState, resp: number): string {
  const age = Math.floor((Date.now() - c.createdAt) / 1000);
  const t = c.tracking;
  const flags =
    `${c.pubsub ? 'P' : ''}${t ? 't' : ''}${t?.brokenRedirect ? 'R' : ''}${t?.bcast ? 'B' : ''}` || 'N';
  const sub = c.pubsub?.channels.size ?? 0;
  const psub = c.pubsub?.patterns.size ?? 0;
  const redir = t === null ? -1 : t.redirect;
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=0 name=${c.name} age=${age} idle=0 flags=${flags} db=0 sub=${sub} psub=${psub} ` +
    `ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 ` +
    `tot-mem=0 events=r cmd=${c.lastCommand} user=${c.user.name} redir=${redir} resp=${resp} lib-name= lib-ver=`
  );
}

/** The INFO sections this server reports. */
export const INFO_SECTIONS = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'modules',
  'errorstats',
  'cluster',
  'keyspace',
] as const;

/** Builds INFO text for the requested sections (default/all/everything = all). */
export function infoText(ctx: CommandContext, requested: string[]): string {
  const want = new Set(requested.map((s) => s.toLowerCase()));
  const all = want.size === 0 || want.has('default') || want.has('all') || want.has('everything');
  const parts: string[] = [];
  const mem = process.memoryUsage();
  const ks = ctx.core.keyspace;
  const s = ctx.server;
  const uptime = Math.floor((Date.now() - s.startedAt) / 1000);
  const add = (name: string, title: string, fields: [string, string | number][]): void => {
    if (!all && !want.has(name)) return;
    if (fields.length === 0) parts.push(`# ${title}\r\n`);
    else parts.push(`# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n`);
  };
  add('server', 'Server', [
    ['redis_version', REDIS_COMPAT_VERSION],
    ['server_name', 'valkey'],
    ['valkey_version', SERVER_VERSION],
    ['engine', 'cdc-cache'],
    ['redis_mode', 'standalone'],
    ['os', `${process.platform} ${process.arch}`],
    ['arch_bits', 64],
    ['process_id', process.pid],
    ['tcp_port', s.port],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['executable', process.execPath],
  ]);
  let clientsMemory = 0;
  let biggestOutput = 0;
  let biggestInput = 0;
  let pubsubClients = 0;
  for (const c of s.clients.values()) {
    if (c.client.pubsub !== null) pubsubClients++;
    clientsMemory += c.memory();
    biggestOutput = Math.max(biggestOutput, c.outputBytes());
    biggestInput = Math.max(biggestInput, c.queryBytes());
  }
  add('clients', 'Clients', [
    ['connected_clients', s.clients.size],
    ['client_recent_max_input_buffer', biggestInput],
    ['client_recent_max_output_buffer', biggestOutput],
    ['blocked_clients', blockedClients(ctx.core)],
    ['tracking_clients', s.tracking.clients],
    ['pubsub_clients', pubsubClients],
  ]);
  add('memory', 'Memory', [
    ['used_memory', ks.usedBytes],
    ['used_memory_human', formatBytes(ks.usedBytes)],
    ['used_memory_heap', mem.heapUsed],
    ['used_memory_rss', mem.rss],
    ['used_memory_rss_human', formatBytes(mem.rss)],
    ['mem_clients_normal', clientsMemory],
    ['maxmemory', ctx.core.maxmemory],
    ['maxmemory_human', formatBytes(ctx.core.maxmemory)],
    ['maxmemory_policy', ctx.core.policy],
    ['maxmemory_clients', s.maxmemoryClients],
    ['v8_heap_size_limit', heapSizeLimit()],
    ['v8_old_generation_limit', oldGenerationLimit()],
    ['v8_old_generation_limit_human', formatBytes(oldGenerationLimit())],
  ]);
  add('persistence', 'Persistence', [
    ['loading', 0],
    ['rdb_changes_since_last_save', 0],
  ]);
  add('stats', 'Stats', [
    ['total_connections_received', s.totalConnections],
    ['total_commands_processed', s.totalCommands],
    ['rejected_connections', s.rejectedConnections],
    ['expired_keys', ks.expiredKeys],
    ['evicted_keys', ctx.core.evictedKeys],
    ['evicted_clients', s.evictedClients],
    ['acl_access_denied_auth', s.authFailures],
    ['acl_access_denied_cmd', s.aclDeniedCommands],
    ['acl_access_denied_key', s.aclDeniedKeys],
    ['client_query_buffer_limit_disconnections', s.queryBufferLimitDisconnections],
    ['client_output_buffer_limit_disconnections', s.outputBufferLimitDisconnections],
    ['pubsub_channels', s.pubsub.channels.size],
    ['pubsub_patterns', s.pubsub.patterns.size],
    ['pubsubshard_channels', 0],
    ['tracking_total_keys', s.tracking.table.size],
    ['tracking_total_items', s.tracking.totalItems()],
    ['tracking_total_prefixes', s.tracking.prefixes.size],
  ]);
  // Sections Valkey reports that have nothing to say for a standalone engine without replicas,
  // modules or cluster; present so tools that parse them find them (names and order as Valkey's).
  add('replication', 'Replication', [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', '0000000000000000000000000000000000000000'],
    ['master_repl_offset', 0],
    ['repl_backlog_active', 0],
  ]);
  const cpu = process.cpuUsage();
  add('cpu', 'CPU', [
    ['used_cpu_sys', (cpu.system / 1e6).toFixed(6)],
    ['used_cpu_user', (cpu.user / 1e6).toFixed(6)],
  ]);
  add('modules', 'Modules', []);
  add('errorstats', 'Errorstats', []);
  add('cluster', 'Cluster', [['cluster_enabled', 0]]);
  const keyspaceFields: [string, string][] =
    ks.size > 0 ? [['db0', `keys=${ks.size},expires=${ks.volatileCount - ks.tombstoneCount},avg_ttl=0`]] : [];
  if (all || want.has('keyspace'))
    parts.push(`# Keyspace\r\n${keyspaceFields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
  return parts.join('\r\n');
}
