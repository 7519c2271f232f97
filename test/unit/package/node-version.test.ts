/**
 * One Node requirement: package.json "engines", the minimum infra/local/ensure-node.sh provisions
 * against, and the README's statement agree; the npm scripts that run TypeScript go through
 * infra/local/node.sh, so they work whatever the system Node.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

describe('the Node requirement', () => {
  const min = /^>=(\d+\.\d+)$/.exec(PKG.engines.node)?.[1];

  it('engines is one lower bound, and ensure-node.sh provisions below the same bound', () => {
    expect(min).toBeDefined();
    const script = readFileSync(join(ROOT, 'infra/local/ensure-node.sh'), 'utf8');
    expect(/^MIN_NODE="([\d.]+)"/m.exec(script)?.[1]).toBe(min);
  });

  it('the README states the same bound', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`Node.js ≥ ${min}`);
  });

  it('every npm script that runs TypeScript or vitest goes through infra/local/node.sh', () => {
    for (const [name, command] of Object.entries(PKG.scripts)) {
      if (!/\.ts\b|vitest/.test(command)) continue;
      for (const part of command.split('&&'))
        expect(part.trim(), `script "${name}"`).toMatch(/^bash infra\/local\/node\.sh /);
    }
  });
});
