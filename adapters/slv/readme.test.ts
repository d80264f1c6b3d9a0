/** The README's settings table is the settings declaration, so the two cannot drift apart. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../core/config/spec.ts';
import { slvSettings } from './settings.ts';

describe('SLV README', () => {
  it('shows every setting as declared', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable(slvSettings));
  });
});
