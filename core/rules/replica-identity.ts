/**
 * Checks, against a live PostgreSQL, that each rule's table captures the old images its templates
 * need (issue 14): `pg_class.relreplident` tells FULL (`f`) from DEFAULT (`d`, primary key only),
 * USING INDEX (`i`) and NOTHING (`n`); `pg_index` tells the primary-key columns. A rule whose
 * templates read other columns from old images, on a table that is not FULL, is a finding with the
 * fix (`ALTER TABLE public.orders REPLICA IDENTITY FULL`). A rule pattern that names no table is
 * one too, with a did-you-mean.
 *
 * Every table found FULL is added to `config.fullTables`: rules then trust its old images even
 * when records carry no schema (a schemaless image cannot be told from a key-only one by its values).
 *
 * No driver here: the caller passes a query function (verify and the consumers use `pg`).
 */

import { editDistance } from '../config/did-you-mean.ts';
import type { CompiledConfig, CompiledRule } from './compile.ts';
import { imageFields } from './template.ts';

/** Runs one SQL statement with positional parameters and returns its rows as objects. */
export type SqlQuery = (text: string, params: readonly unknown[]) => Promise<Record<string, unknown>[]>;

/** One replica-identity problem. `refuse`: the rule's policy would dead-letter every update/delete. */
export interface ReplicaIdentityFinding {
  rule: string;
  table: string;
  refuse: boolean;
  message: string;
}

const IDENTITY: Record<string, string> = { d: 'DEFAULT', n: 'NOTHING', i: 'USING INDEX', f: 'FULL' };

function likePattern(glob: string): string {
  return glob
    .replace(/[\\%_]/g, '\\$&')
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

/** Columns a rule reads from old images (templates, dependents, `when.equals`), minus declared key fields. */
function oldImageColumns(rule: CompiledRule): string[] {
  const keyFields = new Set(rule.keyFields ?? []);
  const fields = [...rule.keys.map((k) => k.template), ...rule.dependents].flatMap(imageFields);
  return [...new Set(fields)].filter((f) => !keyFields.has(f));
}

/**
 * Reads every PostgreSQL rule table's replica identity and reports rules it cannot serve; records
 * the FULL tables in `config.fullTables`.
 */
export async function checkReplicaIdentity(
  config: CompiledConfig,
  query: SqlQuery,
): Promise<ReplicaIdentityFinding[]> {
  const findings: ReplicaIdentityFinding[] = [];
  for (const rule of config.rules) {
    if (rule.source === 'dynamodb') continue;
    const pattern = rule.table.pattern;
    const dot = pattern.indexOf('.');
    const schema = dot >= 0 ? pattern.slice(0, dot) : null;
    const table = dot >= 0 ? pattern.slice(dot + 1) : pattern;
    const rows = await query(
      `SELECT n.nspname AS schema, c.relname AS table, c.relreplident AS identity,
              ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
                      ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                    WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND c.relname LIKE $1 AND ($2::text IS NULL OR n.nspname LIKE $2)
        ORDER BY 1, 2`,
      [likePattern(table), schema === null ? null : likePattern(schema)],
    );
    if (rows.length === 0) {
      const near = await nearest(query, table);
      const hint = near[0]?.name === undefined ? '' : ` (did you mean "${String(near[0].name)}"?)`;
      findings.push({
        rule: rule.name,
        table: pattern,
        refuse: false,
        message: `${rule.name}: no PostgreSQL table matches "${pattern}"${hint}`,
      });
      continue;
    }
    const needed = oldImageColumns(rule);
    for (const row of rows) {
      const identity = String(row.identity);
      if (identity === 'f') {
        config.fullTables.add(String(row.schema), String(row.table));
        continue;
      }
      const name = `${String(row.schema)}.${String(row.table)}`;
      const pk = new Set((row.pk as string[] | null) ?? []);
      const missing = needed.filter((f) => !pk.has(f));
      if (missing.length === 0) continue;
      const policy = rule.partialPolicy;
      const outcome =
        policy.kind === 'dead-letter'
          ? 'its updates and deletes become dead letters (onPartialImage "dead-letter")'
          : policy.kind === 'prefix'
            ? `its updates and deletes invalidate ${policy.prefixes.map((p) => JSON.stringify(p)).join(', ')} instead`
            : 'keys built from old images are left as they are (onPartialImage "ignore")';
      findings.push({
        rule: rule.name,
        table: name,
        refuse: policy.kind === 'dead-letter',
        message: `${rule.name}: table ${name} has REPLICA IDENTITY ${IDENTITY[identity] ?? identity}, so old images carry only ${pk.size === 0 ? 'no columns' : [...pk].join(', ')}, but the rule reads ${missing.join(', ')} from them: ${outcome}; fix: ALTER TABLE ${name} REPLICA IDENTITY FULL`,
      });
    }
  }
  return findings;
}

/** Did-you-mean without the fuzzystrmatch extension: the closest table name by edit distance. */
async function nearest(query: SqlQuery, table: string): Promise<{ name: string }[]> {
  const all = await query(
    `SELECT n.nspname || '.' || c.relname AS name, c.relname AS rel FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    [],
  );
  let best: { name: string } | undefined;
  let bestD = 3;
  for (const r of all) {
    const d = editDistance(String(r.rel), table);
    if (d <= bestD) {
      bestD = d;
      best = { name: String(r.name) };
    }
  }
  return best === undefined ? [] : [best];
}
