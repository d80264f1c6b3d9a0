/**
 * The case system's adapter: the door case events come in by. Unlike the partner adapters it is not a part of
 * its own in `metodehub run --adapters`: it runs with `api`, on the read model the API keeps, so the hub is given
 * it as `caseEvents` (bin/hub.ts) instead of through the catalogue. Its settings are the core's INGRESS_*
 * (core/config/spec.ts): the API's body limit and the hub's transactional producer read them too.
 */
import type { CaseEventDoor } from '../../core/hub/component.ts';
import { caseEventIngress } from './inbound.ts';

/** `POST /api/v1/case-events` (inbound.ts), with the case system's JSON mapped and judged by mapping.ts. */
export const caseSystemDoor: CaseEventDoor = caseEventIngress;
