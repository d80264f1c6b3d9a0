import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../core/config/spec.ts';
import { festSettings } from './settings.ts';

describe('the fest README', () => {
  it('has the settings table of the declaration', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable(festSettings));
  });
});
