/**
 * Chooses a DynamoDB stream view type from what the rules need: the weakest view that lets every
 * rule matching the table do what it says. A stream's view type is fixed when the stream is
 * enabled, so this runs at synth time, against the same rules the handler loads.
 *
 * - a rule that refreshes needs the new image;
 * - a key or dependent template that reads a non-key attribute needs both images (new to build the
 *   key on create/update, old to invalidate it on update/delete); `{before.x}` needs the old image,
 *   `{after.x}` the new one;
 * - a `when` filter on `changed`/`equals` (or a function) may read either image: both;
 * - a rule's explicit `images` is a floor (the author said what the source captures).
 */
import { Annotations } from 'aws-cdk-lib';
import { StreamViewType } from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';
import { type CompiledConfig, compileConfig } from '../../core/rules/compile.ts';
import type { CdcCacheConfig, ImageMode } from '../../core/rules/config.ts';

interface Needs {
  newImage: boolean;
  oldImage: boolean;
}

const FROM_MODE: Record<ImageMode, Needs> = {
  keys: { newImage: false, oldImage: false },
  new: { newImage: true, oldImage: false },
  old: { newImage: false, oldImage: true },
  both: { newImage: true, oldImage: true },
};

/** The image mode a DynamoDB stream view type captures. */
export const IMAGES_OF_VIEW_TYPE: Record<StreamViewType, ImageMode> = {
  [StreamViewType.KEYS_ONLY]: 'keys',
  [StreamViewType.NEW_IMAGE]: 'new',
  [StreamViewType.OLD_IMAGE]: 'old',
  [StreamViewType.NEW_AND_OLD_IMAGES]: 'both',
};

/** The image mode the rules need for one DynamoDB table (`keys`, `new`, `old` or `both`). */
export function imagesNeededFor(
  config: CdcCacheConfig,
  table: string,
  keyAttributes: readonly string[],
): ImageMode {
  const compiled: CompiledConfig = compileConfig(config, 'rules');
  const keySet = new Set(keyAttributes);
  const needs: Needs = { newImage: false, oldImage: false };
  let matched = 0;
  compiled.rules.forEach((rule, i) => {
    if (rule.source === 'debezium' || !rule.table.matches(table, null)) return;
    matched++;
    const spec = config.rules[i]!;
    if (spec.images !== undefined) {
      needs.newImage ||= FROM_MODE[spec.images].newImage;
      needs.oldImage ||= FROM_MODE[spec.images].oldImage;
    }
    const refreshes =
      rule.keys.some((k) => k.action === 'refresh') &&
      (rule.actions.create === 'refresh' ||
        rule.actions.update === 'refresh' ||
        rule.actions.read === 'refresh');
    if (refreshes) needs.newImage = true;
    const keyOnly = new Set([...keySet, ...(rule.keyFields ?? [])]);
    for (const t of [...rule.keys.map((k) => k.template), ...rule.dependents]) {
      for (const ref of t.refs) {
        if (ref.image === 'key') continue;
        if (ref.image === 'before') needs.oldImage = true;
        else if (ref.image === 'after') needs.newImage = true;
        else if (!keyOnly.has(ref.path[0]!)) {
          needs.newImage = true;
          needs.oldImage = true;
        }
      }
    }
    const when = spec.when;
    if (typeof when === 'function' || (when !== undefined && (when.changed ?? when.equals) !== undefined)) {
      needs.newImage = true;
      needs.oldImage = true;
    }
  });
  if (matched === 0)
    throw new Error(
      `no rule matches the DynamoDB table "${table}": add a rule with table "${table}" (or drop the table from the deployment)`,
    );
  if (needs.newImage && needs.oldImage) return 'both';
  return needs.newImage ? 'new' : needs.oldImage ? 'old' : 'keys';
}

/** The weakest stream view type that serves every rule matching `table`. */
export function streamViewTypeFor(
  config: CdcCacheConfig,
  table: string,
  keyAttributes: readonly string[],
): StreamViewType {
  const mode = imagesNeededFor(config, table, keyAttributes);
  const entry = Object.entries(IMAGES_OF_VIEW_TYPE).find(([, m]) => m === mode)!;
  return entry[0] as StreamViewType;
}

/** True when a stream capturing `captured` serves rules that need `needed`. */
export function imagesCover(captured: ImageMode, needed: ImageMode): boolean {
  const c = FROM_MODE[captured];
  const n = FROM_MODE[needed];
  return (c.newImage || !n.newImage) && (c.oldImage || !n.oldImage);
}

/**
 * Why a stream capturing `viewType` cannot serve the rules of `tableName`, or undefined when it can
 * (StreamToHandler and StreamPollerService report it as a synth error).
 */
export function streamViewMismatch(
  rules: CdcCacheConfig,
  tableName: string,
  viewType: StreamViewType,
  keyAttributes: readonly string[],
): string | undefined {
  const needed = imagesNeededFor(rules, tableName, [...keyAttributes]);
  if (imagesCover(IMAGES_OF_VIEW_TYPE[viewType], needed)) return undefined;
  return (
    `the stream captures ${viewType} but the rules for this table need "${needed}" images: ` +
    'enable NEW_AND_OLD_IMAGES (or the view the rules need) on the table, or change the rules'
  );
}

/**
 * Reports {@link streamViewMismatch} on `scope` as a synth error (StreamToHandler and
 * StreamPollerService); nothing when the stream serves the rules.
 */
export function checkStreamView(
  scope: IConstruct,
  rules: CdcCacheConfig,
  tableName: string,
  viewType: StreamViewType,
  keyAttributes: readonly string[],
): void {
  const mismatch = streamViewMismatch(rules, tableName, viewType, keyAttributes);
  if (mismatch !== undefined) Annotations.of(scope).addError(mismatch);
}
