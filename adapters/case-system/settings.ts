/**
 * The settings of the case system's door: the core's INGRESS_* (declared in core/config/spec.ts, since the API's
 * body limit and the hub's transactional producer read them too), picked out so this folder names what it reads.
 */
import { type Setting, settings } from '../../core/config/spec.ts';

export const caseSystemSettings: Record<string, Setting<unknown>> = Object.fromEntries(
  Object.entries(settings).filter(([name]) => name.startsWith('INGRESS_')),
);
