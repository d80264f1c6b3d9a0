/**
 * FEST's change rule for our catalogue entries (oppføringer): a change ends the current entry (status utgått)
 * and starts a new one with a new oppførings-id; a withdrawal ends it without a successor. Pure.
 */
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { entryIdFor, entryIdOf } from './ids.ts';
import type { VilkarDraft } from './mapping.ts';

/** Most earlier entries a record names (the contract's limit): older ones ended long before any vendor asks. */
const EARLIER_KEPT = 100;

/**
 * The FEST change rule: a withdrawal ends the current entry (same oppførings-id, status utgått); any other
 * change ends it and starts a new entry with a new id. The condition keeps its VilkarNr for life.
 */
export function entryOf(
  draft: VilkarDraft,
  known: FestVilkar | undefined,
  changedAt: string,
  catalogueVersion: number,
  vilkarNr: number,
): FestVilkar {
  const bookkeeping = { catalogueVersion, changedAt, vilkarNr: known?.vilkarNr ?? vilkarNr };
  if (draft.withdrawn && known)
    return { ...draft, ...bookkeeping, entryId: entryIdOf(known), earlierEntries: known.earlierEntries };
  const replaces = known ? entryIdOf(known) : null;
  const earlierEntries =
    known && replaces
      ? [
          ...known.earlierEntries,
          // A withdrawn entry ended when it was withdrawn; an active one ends now.
          { entryId: replaces, endedAt: known.withdrawn ? known.changedAt : changedAt },
        ].slice(-EARLIER_KEPT)
      : [];
  return {
    ...draft,
    ...bookkeeping,
    entryId: entryIdFor(draft.vilkarId, replaces, draft),
    earlierEntries,
  };
}
