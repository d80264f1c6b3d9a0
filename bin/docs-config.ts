/**
 * `npm run docs:config`: writes the README's configuration tables from every settings declaration; with `--check`,
 * exits 1 naming the fix when the README differs. An entry point, so it may know every adapter.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterCatalogue } from '../adapters/catalogue.ts';
import { hubSettingsSections, type SettingsSection, withConfiguration } from '../core/config/document.ts';
import { stackSettings } from '../deploy/local/settings.ts';

export const readmePath = join(import.meta.dirname, '..', 'README.md');

export const configurationSections = (): SettingsSection[] => [
  ...hubSettingsSections(adapterCatalogue),
  {
    title: 'local stack',
    note: 'Read by `npm run stack:up` and the other stack commands (deploy/local/settings.ts).',
    settings: stackSettings,
  },
];

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(readmePath, 'utf8');
  const generated = withConfiguration(readme, configurationSections());
  if (process.argv.includes('--check')) {
    if (generated !== readme) {
      process.stderr.write(
        'README.md: the configuration tables differ from the settings declarations; run npm run docs:config\n',
      );
      process.exit(1);
    }
  } else if (generated !== readme) {
    writeFileSync(readmePath, generated);
    process.stdout.write('wrote the configuration tables in README.md\n');
  } else process.stdout.write('README.md: the configuration tables are current\n');
}
