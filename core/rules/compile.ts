/**
 * Validates a CdcCacheConfig once, at load, and compiles it for the hot path: templates parsed,
 * table patterns compiled, defaults applied. Every error names the config path (`rules[2].keys[0]`)
 * and the fix. Also returns warnings about rules that cannot do what they say with the images the
 * source captures (refresh without a new image, old keys that cannot be invalidated).
 */

import { didYouMean } from '../config/did-you-mean.ts';
import { targetSpecProblem } from '../config/target-spec.ts';
import type { Op } from '../event/change-event.ts';
import { Sources } from '../event/change-event.ts';
import { compileWhen, whenFieldsOf } from './compile-when.ts';
import type { CompiledConfig, CompiledKey, CompiledRule } from './compiled-config.ts';
import { type Action, type CdcCacheConfig, CONFIG_DEFAULTS, ImageModes } from './config.ts';
import {
  action,
  checkKeys,
  fail,
  isStrArray,
  jitter,
  partialPolicy,
  seconds,
  template,
} from './config-checks.ts';
import { FullTables } from './full-tables.ts';
import { keyFieldsProblem } from './key-fields.ts';
import { compileTableMatcher } from './match.ts';
import { oldImageKeysOnly } from './partial-policy.ts';
import { imageFields } from './template.ts';

export type {
  CompiledConfig,
  CompiledKey,
  CompiledPartialPolicy,
  CompiledRule,
  WhenField,
} from './compiled-config.ts';

const RULE_KEYS = new Set([
  'table',
  'source',
  'keyFields',
  'keys',
  'prefix',
  'action',
  'on',
  'refresh',
  'dependents',
  'tags',
  'when',
  'truncate',
  'images',
  'onPartialImage',
]);
const TOP_KEYS = new Set(['rules', 'keyPrefix', 'defaults', 'target', '$schema']);

/** Validates and compiles a configuration. `where` names its file for messages. Throws ConfigError. */
export function compileConfig(config: unknown, where = 'config'): CompiledConfig {
  if (typeof config !== 'object' || config === null)
    fail(where, '(root)', 'must be an object with a "rules" list');
  checkKeys(config, TOP_KEYS, where, '');
  const c = config as CdcCacheConfig;
  if (!Array.isArray(c.rules) || c.rules.length === 0)
    fail(where, 'rules', 'must be a non-empty list of rules');
  const keyPrefix = c.keyPrefix ?? '';
  if (typeof keyPrefix !== 'string') fail(where, 'keyPrefix', 'must be a string');
  if (c.defaults !== undefined) checkKeys(c.defaults, new Set(['ttl', 'jitter']), where, 'defaults');
  const defTtl =
    c.defaults?.ttl === undefined ? CONFIG_DEFAULTS.ttl : seconds(c.defaults.ttl, where, 'defaults.ttl');
  const defJitter =
    c.defaults?.jitter === undefined
      ? CONFIG_DEFAULTS.jitter
      : jitter(c.defaults.jitter, where, 'defaults.jitter');
  const target = c.target ?? CONFIG_DEFAULTS.target;
  if (typeof target !== 'string')
    fail(where, 'target', 'must be a string such as "engine" or "valkey://127.0.0.1:6379"');
  // Checked here, not only when `replay` opens it: the error then names this file, not --target.
  const targetProblem = targetSpecProblem(target);
  if (targetProblem !== undefined) fail(where, 'target', targetProblem);
  const warnings: string[] = [];
  const fullTables = new FullTables();
  const rules = c.rules.map((r, index): CompiledRule => {
    const p = `rules[${index}]`;
    if (typeof r !== 'object' || r === null) fail(where, p, 'must be an object');
    checkKeys(r, RULE_KEYS, where, p);
    if (typeof r.table !== 'string' || r.table === '')
      fail(where, `${p}.table`, 'must name a table, e.g. "users" or "public.users"');
    const name = `${p} (${r.table})`;
    if (r.source !== undefined && !Sources.includes(r.source))
      fail(where, `${p}.source`, `must be one of ${Sources.join(', ')}`);
    if (r.keyFields !== undefined && (!isStrArray(r.keyFields) || r.keyFields.length === 0)) {
      fail(where, `${p}.keyFields`, 'must be a non-empty list of field names');
    }
    const images = r.images ?? CONFIG_DEFAULTS.images;
    if (!ImageModes.includes(images))
      fail(
        where,
        `${p}.images`,
        `must be one of ${ImageModes.join(', ')}${didYouMean(String(images), ImageModes)}`,
      );
    const base =
      r.action === undefined
        ? r.refresh === undefined
          ? 'invalidate'
          : 'refresh'
        : action(r.action, where, `${p}.action`);
    if (!Array.isArray(r.keys) || r.keys.length === 0)
      fail(where, `${p}.keys`, 'must be a non-empty list of key templates such as "user:{id}"');
    const keys = r.keys.map((k, i): CompiledKey => {
      if (typeof k === 'string') return { template: template(k, where, `${p}.keys[${i}]`), action: base };
      if (typeof k !== 'object' || k === null)
        fail(where, `${p}.keys[${i}]`, 'must be a template string or { template, action }');
      checkKeys(k, new Set(['template', 'action']), where, `${p}.keys[${i}]`);
      return {
        template: template(k.template, where, `${p}.keys[${i}].template`),
        action: k.action === undefined ? base : action(k.action, where, `${p}.keys[${i}].action`),
      };
    });
    const on = r.on ?? {};
    checkKeys(on, new Set(['create', 'update', 'delete', 'read', 'truncate']), where, `${p}.on`);
    const actions: Record<Op, Action> = {
      create: on.create === undefined ? base : action(on.create, where, `${p}.on.create`),
      update: on.update === undefined ? base : action(on.update, where, `${p}.on.update`),
      read: on.read === undefined ? base : action(on.read, where, `${p}.on.read`),
      delete: on.delete === undefined ? 'invalidate' : action(on.delete, where, `${p}.on.delete`),
      truncate: on.truncate === undefined ? 'invalidate' : action(on.truncate, where, `${p}.on.truncate`),
    };
    if (actions.delete === 'refresh' || actions.delete === 'soft-invalidate')
      fail(
        where,
        `${p}.on.delete`,
        `a deleted row cannot be ${actions.delete === 'refresh' ? 'refreshed' : 'served stale'}: use "invalidate" or "ignore"`,
      );
    if (actions.truncate === 'refresh' || actions.truncate === 'soft-invalidate')
      fail(
        where,
        `${p}.on.truncate`,
        `a truncate cannot ${actions.truncate === 'refresh' ? 'be refreshed' : 'soft-invalidate'}: use "invalidate" or "ignore"`,
      );
    const rs = r.refresh ?? {};
    if (typeof rs !== 'object' || rs === null)
      fail(where, `${p}.refresh`, 'must be an object { fields, ttl, jitter }');
    checkKeys(rs, new Set(['fields', 'project', 'ttl', 'jitter']), where, `${p}.refresh`);
    if (rs.fields !== undefined && (!isStrArray(rs.fields) || rs.fields.length === 0))
      fail(where, `${p}.refresh.fields`, 'must be a non-empty list of field names');
    if (rs.project !== undefined && typeof rs.project !== 'function')
      fail(
        where,
        `${p}.refresh.project`,
        'must be a function (row, event) => value (TypeScript/JS configs only)',
      );
    const refresh = {
      fields: rs.fields,
      fieldJson: rs.fields?.map((f) => `${JSON.stringify(f)}:`),
      project: rs.project,
      ttlMs: Math.round((rs.ttl === undefined ? defTtl : seconds(rs.ttl, where, `${p}.refresh.ttl`)) * 1000),
      jitter: rs.jitter === undefined ? defJitter : jitter(rs.jitter, where, `${p}.refresh.jitter`),
    };
    if (r.dependents !== undefined && !Array.isArray(r.dependents))
      fail(where, `${p}.dependents`, 'must be a list of key templates');
    const dependents = (r.dependents ?? []).map((d, i) => template(d, where, `${p}.dependents[${i}]`));
    if (r.tags !== undefined && !Array.isArray(r.tags))
      fail(where, `${p}.tags`, 'must be a list of tag templates such as "customer:{customer_id}"');
    const tags = (r.tags ?? []).map((t, i) => template(t, where, `${p}.tags[${i}]`));
    const truncateSpec = r.truncate ?? {};
    checkKeys(truncateSpec, new Set(['prefixes']), where, `${p}.truncate`);
    if (truncateSpec.prefixes !== undefined && !isStrArray(truncateSpec.prefixes))
      fail(where, `${p}.truncate.prefixes`, 'must be a list of key prefixes');
    const keyFamilies = [
      ...new Set(keys.map((k) => k.template.staticPrefix).concat(dependents.map((d) => d.staticPrefix))),
    ];
    const truncatePrefixes = truncateSpec.prefixes ?? keyFamilies;
    if (truncateSpec.prefixes !== undefined) {
      // A declared prefix that starts none of the rule's keys is a typo ("custmer:" for "customer:"):
      // every TRUNCATE would then leave the rule's keys stale without a word.
      const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
      truncateSpec.prefixes.forEach((x, i) => {
        if (!keyFamilies.some((f) => overlaps(f, x)))
          fail(
            where,
            `${p}.truncate.prefixes[${i}]`,
            `${JSON.stringify(x)} starts none of this rule's keys (${keyFamilies.map((f) => JSON.stringify(f)).join(', ')})${didYouMean(x, keyFamilies)}, so a TRUNCATE would leave them stale: name a prefix of the rule's keys or dependents`,
          );
      });
      for (const f of keyFamilies)
        if (!truncateSpec.prefixes.some((x) => overlaps(f, x)))
          warnings.push(
            `${where}: ${name}: truncate.prefixes covers no key starting ${JSON.stringify(f)}, so a TRUNCATE leaves those keys stale; add ${JSON.stringify(f)} to truncate.prefixes`,
          );
    }
    if (
      actions.truncate === 'invalidate' &&
      truncatePrefixes.some((x) => x === '') &&
      (r.prefix ?? '') + keyPrefix === ''
    ) {
      warnings.push(
        `${where}: ${name}: a key template has no literal prefix, so TRUNCATE would invalidate every key; declare truncate.prefixes or set on.truncate to "ignore"`,
      );
    }
    const refreshing =
      keys.some((k) => k.action === 'refresh') &&
      (actions.create === 'refresh' || actions.update === 'refresh' || actions.read === 'refresh');
    if (refreshing && (images === 'keys' || images === 'old')) {
      warnings.push(
        `${where}: ${name}: refresh needs the new image but images is "${images}"; every refresh falls back to invalidate (use NEW_IMAGE or NEW_AND_OLD_IMAGES)`,
      );
    }
    if (r.keyFields !== undefined) {
      const problem = keyFieldsProblem(r.keyFields, [...keys.map((k) => k.template), ...dependents, ...tags]);
      if (problem !== undefined) fail(where, `${p}.keyFields[${problem.index}]`, problem.message);
    }
    const keyOnly = new Set(r.keyFields ?? []);
    const nonKey = [...keys.map((k) => k.template), ...dependents, ...tags]
      .flatMap(imageFields)
      .filter((f) => !keyOnly.has(f));
    if (r.prefix !== undefined && typeof r.prefix !== 'string')
      fail(where, `${p}.prefix`, 'must be a string');
    const policy = partialPolicy(
      r.onPartialImage,
      keyPrefix + (r.prefix ?? ''),
      where,
      `${p}.onPartialImage`,
    );
    if (nonKey.length > 0 && images !== 'both') {
      const outcome =
        policy.kind === 'dead-letter'
          ? 'updates and deletes become dead letters (onPartialImage defaults to "dead-letter"; declare { invalidatePrefix } to fall back instead)'
          : policy.kind === 'prefix'
            ? `updates and deletes invalidate ${policy.prefixes.map((x) => JSON.stringify(x)).join(', ')} instead`
            : 'keys built from the old image are left as they are (onPartialImage is "ignore")';
      warnings.push(
        `${where}: ${name}: templates read non-key fields (${[...new Set(nonKey)].join(', ')}) but images is "${images}": the old image cannot build them, so ${outcome}; capture full old images (NEW_AND_OLD_IMAGES / REPLICA IDENTITY FULL / binlog_row_image=FULL) to build them`,
      );
    }
    const rule: CompiledRule = {
      index,
      name,
      table: compileTableMatcher(r.table),
      source: r.source,
      keyFields: r.keyFields,
      keys,
      prefix: keyPrefix + (r.prefix ?? ''),
      actions,
      refresh,
      dependents,
      tags,
      when: undefined,
      whenFields: [],
      truncatePrefixes,
      images,
      oldKeysOnly: images === 'new' || images === 'keys',
      oldImagesDeclared: r.images === 'both' || r.images === 'old',
      fullTables,
      partialPolicy: policy,
    };
    rule.when = compileWhen(r.when, where, `${p}.when`, (event) => oldImageKeysOnly(rule, event));
    rule.whenFields = whenFieldsOf(r.when);
    return rule;
  });
  return { rules, keyPrefix, target, warnings, fullTables };
}
