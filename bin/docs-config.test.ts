/** The README's configuration tables are what the declarations generate, and every variable the code reads is declared. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configurationMarkdown, withConfiguration } from '../core/config/document.ts';
import { positive } from '../core/config/spec.ts';
import { configurationSections, readmePath } from './docs-config.ts';

const repoRoot = join(import.meta.dirname, '..');
const readme = readFileSync(readmePath, 'utf8');

describe("the README's configuration tables", () => {
  it('are what the settings declarations generate (npm run docs:config writes them)', () => {
    expect(withConfiguration(readme, configurationSections())).toBe(readme);
  });

  it('would differ once a declaration changes', () => {
    const [core, ...rest] = configurationSections();
    const added = {
      ...core!,
      settings: { ...core!.settings, NEW_SETTING: { description: 'new', default: 1, parse: positive } },
    };
    expect(withConfiguration(readme, [added, ...rest])).not.toBe(readme);
    expect(configurationMarkdown([added])).toContain('| `NEW_SETTING` | `1` | new |');
  });

  it('name every environment variable the code reads, but the system’s own', () => {
    const declared = new Set(configurationSections().flatMap((s) => Object.keys(s.settings)));
    const system = new Set(['USER', 'JAVA_HOME', 'VITEST']);
    const read = /\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g;
    const undeclared = ['adapters', 'core', 'bin', 'deploy']
      .flatMap((dir) => filesUnder(join(repoRoot, dir)))
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(read)]
          .map((m) => m[1] ?? m[2]!)
          .filter((name) => !declared.has(name) && !system.has(name))
          .map((name) => `${relative(repoRoot, file)}: ${name}`),
      );
    expect(undeclared).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(ts|mjs)$/.test(entry) && !entry.endsWith('.test.ts') ? [path] : [];
  });
}
