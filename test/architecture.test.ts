/**
 * Who may import whom (issue 20): core/ knows no adapter, no deployment and no test; an adapter's running code
 * knows core/ and contracts/, never another adapter, a deployment, a test or the composition root (bin/).
 * Only bin/ (the CLI, `npm start`, the composition in bin/hub.ts) knows every adapter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(path);
    return /\.(ts|mts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** The repository paths a file imports (static, dynamic and re-exports), relative ones only. */
function importsOf(file: string, text: string): string[] {
  const specifiers = [
    ...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm),
  ].map((m) => m[1]!);
  return specifiers.map((s) => relative(root, resolve(root, dirname(file), s)));
}

const top = (path: string) => path.split('/')[0]!;

function violations(dir: string, allowed: (file: string, target: string) => boolean): string[] {
  return sources(dir).flatMap((file) =>
    importsOf(file, readFileSync(join(root, file), 'utf8'))
      .filter((target) => !allowed(file, target))
      .map((target) => `${file} imports ${target}`),
  );
}

it('reads every kind of import, so the rules below cannot pass by not seeing one', () => {
  const text = [
    "import { a } from '../../adapters/x.ts';",
    "export { b } from '../test/y.ts';",
    "  const { c } = await import('../../deploy/z.ts');",
    "import '../side.ts';",
    "import { d } from 'kafkajs';",
  ].join('\n');
  expect(importsOf('core/hub/hub.ts', text)).toEqual([
    'adapters/x.ts',
    'core/test/y.ts',
    'deploy/z.ts',
    'core/side.ts',
  ]);
});

it('core/ imports nothing from adapters/, deploy/, test/, bench/ or bin/ (its tests included)', () => {
  expect(violations('core', (_, target) => ['core', 'contracts'].includes(top(target)))).toEqual([]);
});

it("an adapter's running code imports core/ and contracts/ and its own folder, never another adapter", () => {
  expect(
    violations('adapters', (file, target) => {
      if (/\.test\.ts$/.test(file)) return true;
      if (['core', 'contracts'].includes(top(target))) return true;
      // adapters/catalogue.ts lists them all; every other file stays in its own folder.
      if (file === 'adapters/catalogue.ts') return top(target) === 'adapters';
      return target.split('/').slice(0, 2).join('/') === file.split('/').slice(0, 2).join('/');
    }),
  ).toEqual([]);
});
