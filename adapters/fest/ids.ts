/**
 * FEST ids for our conditions, in FEST's form `ID_<GUID>` (as in real extracts: ID_8900C2B1-2E56-4E61-B241-233A7EEC22F5).
 * Each GUID is a name-based UUID (RFC 4122 version 5), so publishing the same thing again, or rebuilding the
 * catalogue, gives the same id; only a change gives a new one.
 */
import { createHash } from 'node:crypto';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { draftOf, type VilkarDraft } from './mapping.ts';

/** Our namespace for name-based FEST ids (a random UUID, fixed for ever). */
const NAMESPACE = Buffer.from('6f1c2a4e9b7d4c3a8e5f1d2b3c4a5e6f', 'hex');

/** An RFC 4122 version 5 UUID of a name, upper case as FEST writes them. */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `Vilkar/Id`, what products' `RefVilkar` point at: one per condition (method) for its whole life. */
export const festVilkarIdOf = (vilkarId: string): string => `ID_${uuidV5(`vilkar:${vilkarId}`)}`;

/**
 * `OppfVilkar/Id` of a new entry: from the condition, the entry it replaces and what it says, so a change back
 * to an earlier text still gets a new id (FEST never reuses an oppførings-id).
 */
export const entryIdFor = (vilkarId: string, replaces: string | null, draft: VilkarDraft): string =>
  `ID_${uuidV5(`oppforing:${vilkarId}\n${replaces ?? ''}\n${fingerprintOf(draft)}`)}`;

/** What a vendor sees of a draft, in a fixed order. */
const fingerprintOf = (d: VilkarDraft): string =>
  JSON.stringify([
    d.methodId,
    d.withdrawn,
    d.statusCode,
    d.statusText,
    d.text,
    d.validFrom,
    d.validTo,
    d.substances,
    d.atcCodes,
    d.indication,
    d.link,
  ]);

/** `OppfVilkar/Id` of an entry; records from before ids were kept get theirs from what they say. */
export const entryIdOf = (entry: FestVilkar): string =>
  entry.entryId ?? entryIdFor(entry.vilkarId, null, { ...draftOf(entry), withdrawn: false });
