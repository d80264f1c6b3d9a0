import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { settingsTable } from '../../core/config/spec.ts';
import { hdirSettings } from './settings.ts';

it('documents every setting in the README as declared', () => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  expect(readme).toContain(settingsTable(hdirSettings));
});
