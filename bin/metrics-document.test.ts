/** deploy/monitoring/METRICS.md documents every metric: regenerate it with `npx metodehub metrics > ...`. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../adapters/catalogue.ts'; // every adapter registers its metrics on import
import '../core/hub/hub.ts';
import { metricsTable } from '../core/metrics/registry.ts';

const documented = resolve(import.meta.dirname, '../deploy/monitoring/METRICS.md');

describe('metrics documentation', () => {
  it('lists exactly the metrics the hub registers', async () => {
    const table = await metricsTable();
    const file = readFileSync(documented, 'utf8');
    expect(
      file,
      'deploy/monitoring/METRICS.md is stale: npx metodehub metrics, then paste the table',
    ).toContain(table);
  });
});
