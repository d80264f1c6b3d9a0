import { describe, expect, it } from 'vitest';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { entryOf } from './changeRule.ts';
import { entryIdFor, festVilkarIdOf, uuidV5 } from './ids.ts';
import type { VilkarDraft } from './mapping.ts';

const GUID_ID = /^ID_[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
const draft = (over: Partial<VilkarDraft> = {}): VilkarDraft => ({
  vilkarId: 'NM-ID2021_042',
  methodId: 'ID2021_042',
  withdrawn: false,
  statusCode: 'UNDER_VURDERING',
  statusText: 'Under vurdering i Nye metoder',
  text: 'Nivolumab er til vurdering i Nye metoder.',
  validFrom: '2021-03-02',
  validTo: null,
  substances: ['nivolumab'],
  atcCodes: ['L01FF01'],
  indication: null,
  link: null,
  ...over,
});
const introduced = draft({ statusCode: 'INNFORT', statusText: 'Innført', text: 'Nivolumab er innført.' });

describe('the FEST change rule', () => {
  it('gives a new condition an ID_<GUID> entry, its Vilkar id and the next VilkarNr', () => {
    const first = entryOf(draft(), undefined, '2021-03-02T10:00:00.000Z', 1, 5);
    expect(first.entryId).toMatch(GUID_ID);
    expect(festVilkarIdOf(first.vilkarId)).toMatch(GUID_ID);
    expect(first.earlierEntries).toEqual([]);
    expect(first.vilkarNr).toBe(5);
    // Name-based: the same condition saying the same gets the same id on a resend or a rebuild.
    expect(entryOf(draft(), undefined, '2030-01-01T00:00:00.000Z', 99, 7).entryId).toBe(first.entryId);
    expect(uuidV5('x')).toBe(uuidV5('x'));
    expect(festVilkarIdOf('NM-ID2021_042')).not.toBe(festVilkarIdOf('NM-ID2021_043'));
  });

  it('ends the old entry and starts a new one with a new id on a change; the VilkarNr stays', () => {
    const first = entryOf(draft(), undefined, '2021-03-02T10:00:00.000Z', 1, 5);
    const second = entryOf(introduced, first, '2022-01-24T12:00:00.000Z', 2, 6);
    expect(second.entryId).toMatch(GUID_ID);
    expect(second.entryId).not.toBe(first.entryId);
    expect(second.earlierEntries).toEqual([{ entryId: first.entryId, endedAt: '2022-01-24T12:00:00.000Z' }]);
    expect(second.vilkarNr).toBe(5);
    // Back to the first text: still a new id, FEST never reuses one.
    const third = entryOf(draft(), second, '2022-02-01T12:00:00.000Z', 3, 6);
    expect(new Set([first.entryId, second.entryId, third.entryId]).size).toBe(3);
    expect(third.earlierEntries.map((e) => e.entryId)).toEqual([first.entryId, second.entryId]);
  });

  it('withdraws by ending the current entry (same id, utgått), and a comeback is a new entry', () => {
    const first = entryOf(draft(), undefined, '2021-03-02T10:00:00.000Z', 1, 5);
    const withdrawn = entryOf({ ...draft(), withdrawn: true }, first, '2021-06-01T08:00:00.000Z', 2, 6);
    expect(withdrawn.withdrawn).toBe(true);
    expect(withdrawn.entryId).toBe(first.entryId);
    expect(withdrawn.earlierEntries).toEqual([]);
    const back = entryOf(draft(), withdrawn, '2021-09-01T08:00:00.000Z', 3, 6);
    expect(back.entryId).not.toBe(first.entryId);
    expect(back.earlierEntries).toEqual([{ entryId: first.entryId, endedAt: '2021-06-01T08:00:00.000Z' }]);
  });

  it('names at most the contract limit of earlier entries, the newest kept', () => {
    let entry: FestVilkar = entryOf(draft(), undefined, '2021-03-02T10:00:00.000Z', 1, 1);
    for (let i = 0; i < 105; i++)
      entry = entryOf(
        draft({ text: `tekst ${i}` }),
        entry,
        new Date(Date.UTC(2022, 0, 1) + i * 1000).toISOString(),
        i + 2,
        1,
      );
    expect(entry.earlierEntries).toHaveLength(100);
    expect(entry.earlierEntries.at(-1)!.endedAt).toBe(
      new Date(Date.UTC(2022, 0, 1) + 104 * 1000).toISOString(),
    );
    expect(entryIdFor('NM-X', null, draft())).not.toBe(entryIdFor('NM-X', 'ID_Y', draft()));
  });
});
