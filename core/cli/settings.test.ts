/** The command line's METODEHUB_* settings go through their declaration; without a command it answers with its help. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadSettings } from '../config/spec.ts';
import { defaultHubUrl } from './apiClient.ts';
import { cliSettings } from './settings.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

describe('the command line settings', () => {
  const config = loadConfig({ HUB_HOST: '127.0.0.1', HUB_PORT: '8123' });

  it('call the hub at METODEHUB_URL, or at HUB_HOST:HUB_PORT without it', () => {
    expect(defaultHubUrl(config, { METODEHUB_URL: 'http://127.0.0.1:9999/' })).toBe('http://127.0.0.1:9999');
    expect(defaultHubUrl(config, {})).toBe('http://127.0.0.1:8123');
    expect(() => defaultHubUrl(config, { METODEHUB_URL: 'hub' })).toThrow(
      /METODEHUB_URL=hub must be an absolute URL/,
    );
  });

  it('switch the stand-ins of npm start off with METODEHUB_STAND_INS=false, and refuse what is not a flag', () => {
    expect(loadSettings(cliSettings, {}).METODEHUB_STAND_INS).toBe(true);
    expect(loadSettings(cliSettings, { METODEHUB_STAND_INS: 'false' }).METODEHUB_STAND_INS).toBe(false);
    expect(() => loadSettings(cliSettings, { METODEHUB_STAND_INS: 'maybe' })).toThrow(ConfigError);
  });

  it('print the help and exit 0 when `npx metodehub` is given no command', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'bin', 'metodehub.mjs')], {
      cwd: repoRoot,
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^Usage: metodehub \[options\] \[command\]/);
    expect(stdout).toContain('config [options]');
  });
});
