/** The CLI's way to the hub API: a bearer token (given, or minted by the local dev issuer) and clear errors. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { type Config, loadSettings } from '../config/spec.ts';
import { DevIssuer } from '../http/devIssuer.ts';
import type { Problem } from '../http/problem.ts';
import { cliSettings } from './settings.ts';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly problem?: Problem,
  ) {
    super(message);
  }
}

export interface ApiTarget {
  url: string;
  token: string;
}

export const defaultHubUrl = (config: Config, env: NodeJS.ProcessEnv = process.env): string =>
  loadSettings(cliSettings, env).METODEHUB_URL.replace(/\/$/, '') ||
  `http://${config.HUB_HOST}:${config.HUB_PORT}`;

/**
 * The token to use: --token, METODEHUB_TOKEN, or one the local dev issuer's key mints with `scopes` (the entry
 * point knows which: bin/cli.ts gives every adapter's, an adapter's command its own).
 */
export async function tokenFor(
  config: Config,
  given: string | undefined,
  scopes: string[],
  subject = 'metodehub-cli',
): Promise<string> {
  const token = given ?? loadSettings(cliSettings).METODEHUB_TOKEN;
  if (token) return token;
  const keyFile = resolve(config.DEV_ISSUER_KEY_FILE);
  if (!existsSync(keyFile)) {
    throw new ApiError(
      `no token: pass --token or set METODEHUB_TOKEN (the dev issuer key ${keyFile} is not there; npm start makes it)`,
      0,
    );
  }
  const issuer = await DevIssuer.fromFile(keyFile);
  return issuer.mint({
    scopes,
    audience: config.AUTH_AUDIENCE,
    issuer: config.AUTH_ISSUER,
    subject,
    expiresIn: '1h',
  });
}

export async function callApi<T>(
  target: ApiTarget,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  } catch (error) {
    throw new ApiError(
      `the hub is not answering at ${target.url} (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}); start it with npm start or npx metodehub run`,
      0,
    );
  }
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  if (response.status >= 400) {
    const problem = body as Problem | undefined;
    const details =
      problem?.errors?.map((e) => `\n  - ${e.code ? `${e.code}: ` : ''}${e.reason}`).join('') ?? '';
    throw new ApiError(
      `${response.status} ${problem?.code ?? ''}: ${problem?.detail ?? text}${details}`,
      response.status,
      problem,
    );
  }
  return { status: response.status, body: body as T };
}

/** Adds the options every command that talks to a hub takes (`--hub`, `--token`, `--json`). */
export const withTarget = (command: Command): Command =>
  command
    .option('--hub <url>', 'hub API base URL (default METODEHUB_URL or http://HUB_HOST:HUB_PORT)')
    .option('--token <jwt>', 'bearer token (default METODEHUB_TOKEN, or one minted by the local dev issuer)')
    .option('--json', 'print the API answer as JSON');

/** The options every command that talks to a hub takes (`--hub`, `--token`, `--json`). */
export interface TargetOptions {
  hub?: string;
  token?: string;
  json?: boolean;
}

/** `?asOf=...` for a route that takes it, or nothing. */
export const asOfQuery = (asOf?: string): string => (asOf ? `?asOf=${encodeURIComponent(asOf)}` : '');
