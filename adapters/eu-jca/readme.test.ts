import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsTable } from '../../core/config/spec.ts';
import { euJcaAdapter } from './adapter.ts';
import { jcaSettings } from './settings.ts';

describe('the README', () => {
  it('shows the settings exactly as declared', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable(jcaSettings));
    expect(euJcaAdapter.settings).toBe(jcaSettings);
  });
});
