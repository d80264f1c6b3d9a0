/**
 * The composition root: the one place that knows every adapter. The hub (core/hub/hub.ts) runs what it is given;
 * here it is given the catalogue (adapters/catalogue.ts) and the case system's door. The CLI, `npm start`, the
 * benchmarks and the tests that run a whole hub build it here.
 */
import { adapterCatalogue } from '../adapters/catalogue.ts';
import { caseSystemDoor } from '../adapters/case-system/adapter.ts';
import type { Config } from '../core/config/spec.ts';
import {
  type ComponentName,
  componentDescriptionsOf,
  componentNamesOf,
  devScopes as devScopesOf,
  Hub,
  type HubOptions,
  parseComponents as parseComponentsOf,
} from '../core/hub/hub.ts';

/** Every part a hub can run: api, projection, then the adapters in start order. */
export const componentNames: readonly string[] = componentNamesOf(adapterCatalogue);

export const componentDescriptions: Record<string, string> = componentDescriptionsOf(adapterCatalogue);

/** The parts `--adapters a,b` names (every part when none); an unknown name is refused with the choice. */
export const parseComponents = (list: string | undefined): ComponentName[] =>
  parseComponentsOf(list, componentNames);

/** The scopes a local dev token carries: the core's and every adapter's, except confidential ones. */
export const devScopes = (config: Config, env: NodeJS.ProcessEnv = process.env): string[] =>
  devScopesOf(config, adapterCatalogue, env);

/** A hub with every adapter of the catalogue and the case system's door; `options` may narrow or replace them. */
export function createHub(options: HubOptions): Hub {
  return new Hub({ adapters: adapterCatalogue, caseEvents: caseSystemDoor, ...options });
}
