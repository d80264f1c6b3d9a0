import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../core/config/spec.ts';
import { caseSystemSettings } from './settings.ts';

describe('the case-system README', () => {
  it('has the settings table of the declaration', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    expect(Object.keys(caseSystemSettings)).toContain('INGRESS_WRITE_TIMEOUT_MS');
    expect(readme).toContain(settingsTable(caseSystemSettings));
  });
});
