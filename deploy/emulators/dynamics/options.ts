/**
 * The emulator's settings, declared once with a description and default and validated at start-up.
 * The README's settings table is checked against this list by server.test.ts.
 */
import type { ClientCredentials } from './tokenIssuer.ts';
import type { MethodCaseChanges } from './schema.ts';

export interface Setting<T> {
  description: string;
  default: T;
  /** A reason the value is unusable, or undefined when it is fine. */
  problem: (value: T) => string | undefined;
}

const positive = (value: number): string | undefined =>
  Number.isFinite(value) && value > 0 ? undefined : 'must be a number > 0';
const positiveInteger = (value: number): string | undefined =>
  Number.isInteger(value) && value > 0 ? undefined : 'must be a whole number > 0';

export const settings = {
  host: {
    description: 'Address to listen on. Only loopback is allowed.',
    default: '127.0.0.1',
    problem: (value: string) => (value === '127.0.0.1' ? undefined : 'must be 127.0.0.1'),
  } satisfies Setting<string>,
  port: {
    description: 'Port to listen on; 0 picks a free one.',
    default: 0,
    problem: (value: number) =>
      Number.isInteger(value) && value >= 0 && value <= 65535
        ? undefined
        : 'must be a TCP port from 0 to 65535',
  } satisfies Setting<number>,
  clients: {
    description: 'OAuth2 confidential clients accepted by the token endpoint.',
    default: [{ clientId: 'metodehub-slv', clientSecret: 'emulator-secret' }] as ClientCredentials[],
    problem: (value: ClientCredentials[]) =>
      value.length > 0 && value.every((c) => c.clientId && c.clientSecret)
        ? undefined
        : 'must list at least one {clientId, clientSecret}',
  } satisfies Setting<ClientCredentials[]>,
  resource: {
    description:
      'When set, the token scope must be `<resource>/.default` (as Entra ID requires); unset accepts any `.../.default`.',
    default: undefined as string | undefined,
    problem: (value: string | undefined) =>
      value === undefined || /^https?:\/\//.test(value) ? undefined : 'must be an http(s) URL',
  } satisfies Setting<string | undefined>,
  tokenLifetimeSeconds: {
    description: 'Lifetime of access tokens (Entra ID: about an hour). Fractions allowed for fast tests.',
    default: 3600,
    problem: positive,
  } satisfies Setting<number>,
  maxRequests: {
    description: 'Service protection: requests a client may make per window before 429 (Dataverse: 6000).',
    default: 6000,
    problem: positiveInteger,
  } satisfies Setting<number>,
  windowSeconds: {
    description: 'Service protection: length of the sliding window (Dataverse: 300 s).',
    default: 300,
    problem: positive,
  } satisfies Setting<number>,
  maxConcurrentRequests: {
    description: 'Service protection: simultaneous requests per client before 429 (Dataverse: 52).',
    default: 52,
    problem: positiveInteger,
  } satisfies Setting<number>,
  deltaTokenRetentionSeconds: {
    description:
      'How long a delta token stays valid before it answers 400 expired (change-tracking retention).',
    default: 90 * 24 * 3600,
    problem: positive,
  } satisfies Setting<number>,
  defaultPageSize: {
    description: 'Rows per page when the client sends no `Prefer: odata.maxpagesize` (Dataverse: 5000).',
    default: 5000,
    problem: positiveInteger,
  } satisfies Setting<number>,
  seed: {
    description: 'Method cases SLV already has at start, as if SLV had created them.',
    default: [] as SeedCase[],
    problem: (value: SeedCase[]) =>
      value.every((c) => typeof c.nm_nyemetoderid === 'string' && c.nm_nyemetoderid !== '')
        ? undefined
        : 'every seeded case needs an nm_nyemetoderid',
  } satisfies Setting<SeedCase[]>,
};

export type SeedCase = MethodCaseChanges & { nm_nyemetoderid: string };

export type Settings = { [K in keyof typeof settings]: (typeof settings)[K]['default'] };
export type DynamicsEmulatorOptions = Partial<Settings>;

/** Settings a running emulator lets a test change (`configure()` or `POST /_emulator/config`). */
export const runtimeSettings = [
  'tokenLifetimeSeconds',
  'maxRequests',
  'windowSeconds',
  'maxConcurrentRequests',
  'deltaTokenRetentionSeconds',
  'defaultPageSize',
] as const;
export type RuntimeSettings = Partial<Pick<Settings, (typeof runtimeSettings)[number]>>;

export class EmulatorOptionsError extends Error {
  override name = 'EmulatorOptionsError';
}

/** Fills in defaults and checks every value; lists every bad one at once. */
export function resolveSettings(options: DynamicsEmulatorOptions): Settings {
  const problems: string[] = [];
  const resolved: Record<string, unknown> = {};
  for (const name of Object.keys(options)) if (!(name in settings)) problems.push(`${name}: not a setting`);
  for (const [name, setting] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const given = (options as Record<string, unknown>)[name];
    const value = given === undefined ? setting.default : given;
    const problem = setting.problem(value);
    if (problem) problems.push(`${name}=${JSON.stringify(value)} ${problem} (${setting.description})`);
    resolved[name] = value;
  }
  if (problems.length > 0)
    throw new EmulatorOptionsError(`EMULATOR_OPTIONS_INVALID:\n  ${problems.join('\n  ')}`);
  return resolved as Settings;
}

/** Applies run-time changes to resolved settings, refusing settings that only apply at start. */
export function changeSettings(current: Settings, changes: RuntimeSettings): Settings {
  const fixed = Object.keys(changes).filter((name) => !(runtimeSettings as readonly string[]).includes(name));
  if (fixed.length > 0) {
    throw new EmulatorOptionsError(
      `EMULATOR_OPTIONS_INVALID: ${fixed.join(', ')} can only be set at start; at run time: ${runtimeSettings.join(', ')}`,
    );
  }
  return resolveSettings({ ...current, ...changes });
}
