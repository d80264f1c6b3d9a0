import { decisionOf } from '../../core/demo/fixtures.ts';
import { describe, expect, it } from 'vitest';
import type { FestVilkar, MethodDetails, MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { demoHistory } from '../../core/demo/history.ts';
import {
  aboutText,
  draftOf,
  festVilkarFor,
  osloDateOf,
  sameVilkar,
  sentence,
  withdrawnVilkar,
} from './mapping.ts';

const id = 'ID2021_042';
const options = { linkBase: 'https://www.nyemetoder.no/metoder/' };
const details: MethodDetails = {
  name: 'Nivolumab til behandling av lungekreft',
  shortDescription: null,
  methodType: 'MEDICINE',
  level: 'NATIONAL',
  specialty: 'Onkologi',
  indication: 'Ikke-småcellet lungekreft',
  substances: ['nivolumab'],
  atcCodes: ['L01FF01'],
  marketingAuthorisation: 'GRANTED',
  supplier: 'Bristol-Myers Squibb',
  hPrescription: true,
  estimatedPatientsPerYear: 250,
  guidelineFlags: [],
  assessmentUrl: null,
  supplierConfidentialNote: 'Rabatt på 31 prosent, hemmelig',
};

let clock = Date.parse('2021-03-01T09:00:00Z');
const at = () => {
  clock += 86_400_000;
  return new Date(clock).toISOString();
};
function fold(events: MethodEvent[]): MethodState {
  let state: MethodState | undefined;
  for (const event of events) {
    const result = applyEvent(state, event);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.code}: ${e.reason}`).join('; '));
    state = result.value;
  }
  return state!;
}
const registered = (extra: Partial<MethodDetails> = {}) =>
  methodEvent(
    'METHOD_REGISTERED',
    id,
    { details: { ...details, ...extra } },
    { occurredAt: '2021-03-01T23:30:00Z' },
  );
const toStatus = (to: MethodState['status']) =>
  methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null }, { occurredAt: at() });
const throughAssessment = () => [
  registered(),
  toStatus('HORIZON_SCANNING'),
  toStatus('AWAITING_ORDERING'),
  methodEvent(
    'ASSIGNMENT_ORDERED',
    id,
    { assignee: 'SLV', slvTrack: 'A', fhiProduct: null, orderedOn: '2021-04-12', deadline: null },
    { occurredAt: at() },
  ),
  methodEvent('ASSESSMENT_STARTED', id, { startedOn: '2021-05-01', assessor: 'SLV' }, { occurredAt: at() }),
  methodEvent(
    'ASSESSMENT_DELIVERED',
    id,
    { deliveredOn: '2021-10-01', reportUrl: null, simplified: false },
    { occurredAt: at() },
  ),
  toStatus('ASSESSMENT_COMPLETED'),
  toStatus('AWAITING_DECISION'),
];
const decided = (
  outcome: 'INTRODUCED' | 'INTRODUCED_WITH_CONDITIONS' | 'TEMPORARILY_INTRODUCED' | 'NOT_INTRODUCED',
  extra = {},
) =>
  methodEvent(
    'DECISION_MADE',
    id,
    decisionOf(outcome, '2022-01-24', { effectiveFrom: '2022-02-01', ...extra }),
    { occurredAt: at() },
  );
const temporary = {
  temporaryIntroduction: {
    reassessBy: '2024-02-01',
    outcomeMeasures: ['totaloverlevelse'],
    dataPlan: 'Registerdata',
    exitPlan: 'Avslutt ved manglende effekt',
  },
};

describe('the prescriber status of a medicine method', () => {
  it.each([
    ['just registered', () => [registered()], 'UNDER_VURDERING', '2021-03-02', null],
    ['under assessment', () => throughAssessment().slice(0, 6), 'UNDER_VURDERING', '2021-03-02', null],
    ['introduced', () => [...throughAssessment(), decided('INTRODUCED')], 'INNFORT', '2022-02-01', null],
    [
      'introduced with conditions',
      () => [
        ...throughAssessment(),
        decided('INTRODUCED_WITH_CONDITIONS', { conditions: ['Kun andrelinje'] }),
      ],
      'INNFORT_MED_VILKAR',
      '2022-02-01',
      null,
    ],
    [
      'temporarily introduced',
      () => [...throughAssessment(), decided('TEMPORARILY_INTRODUCED', temporary)],
      'MIDLERTIDIG_INNFORT',
      '2022-02-01',
      null,
    ],
    [
      'not introduced',
      () => [...throughAssessment(), decided('NOT_INTRODUCED')],
      'IKKE_INNFORT',
      '2022-01-24',
      null,
    ],
    [
      'phased out',
      () => [
        ...throughAssessment(),
        decided('INTRODUCED'),
        methodEvent(
          'PHASED_OUT',
          id,
          { effectiveFrom: '2023-06-01', subGroup: null, reason: null },
          { occurredAt: at() },
        ),
      ],
      'UTFASET',
      '2023-06-01',
      null,
    ],
  ])('%s', (_what, events, status, validFrom, validTo) => {
    const draft = festVilkarFor(fold(events()), options)!;
    expect(draft.statusCode).toBe(status);
    expect(draft.validFrom).toBe(validFrom);
    expect(draft.validTo).toBe(validTo);
    expect(draft.vilkarId).toBe('NM-ID2021_042');
    expect(draft.substances).toEqual(['nivolumab']);
    expect(draft.atcCodes).toEqual(['L01FF01']);
    expect(draft.link).toBe('https://www.nyemetoder.no/metoder/ID2021_042');
  });

  it('tells prescribers not to start new patients while the method is assessed, from its Oslo registration day', () => {
    const draft = festVilkarFor(fold([registered()]), options)!;
    // Registered 23:30 UTC on 1 March is 2 March in Oslo.
    expect(osloDateOf(Date.parse('2021-03-01T23:30:00Z'))).toBe('2021-03-02');
    expect(draft.text).toContain('Skal ikke tas i bruk for nye pasienter');
    expect(draft.statusText).toBe('Under vurdering i Nye metoder');
  });

  it('gives no condition for a method that is not a medicine, or closed before a decision', () => {
    expect(
      festVilkarFor(fold([registered({ methodType: 'PROCEDURE', substances: [], atcCodes: [] })]), options),
    ).toBeNull();
    const closed = fold([
      registered(),
      methodEvent('METHOD_CLOSED', id, { reason: 'WITHDRAWN', note: null }, { occurredAt: at() }),
    ]);
    expect(festVilkarFor(closed, options)).toBeNull();
  });

  it('never carries the supplier note', () => {
    const state = fold([...throughAssessment(), decided('INTRODUCED')]);
    expect(JSON.stringify(festVilkarFor(state, options))).not.toContain('Rabatt');
  });

  it('withdraws a published condition and sees unchanged drafts as the same', () => {
    const draft = festVilkarFor(fold([registered()]), options)!;
    const published: FestVilkar = {
      ...draft,
      catalogueVersion: 7,
      changedAt: '2021-03-02T10:00:00.000Z',
      entryId: 'ID_8900C2B1-2E56-4E61-B241-233A7EEC22F5',
      earlierEntries: [],
      vilkarNr: 9,
    };
    const withdrawn = withdrawnVilkar(published);
    expect(withdrawn.withdrawn).toBe(true);
    expect(draftOf(published)).toEqual(draft);
    expect(sameVilkar(draft, { ...draft })).toBe(true);
    expect(sameVilkar(draft, withdrawn)).toBe(false);
  });
});

describe('condition texts a clinician can read', () => {
  it('states a temporary introduction with its reassessment date, without letting the condition expire', () => {
    const draft = festVilkarFor(
      fold([...throughAssessment(), decided('TEMPORARILY_INTRODUCED', temporary)]),
      options,
    )!;
    expect(draft.validTo).toBeNull();
    expect(draft.text).toContain('Skal revurderes innen 01.02.2024');
    expect(draft.text).toContain('gjelder til ny beslutning');
  });

  it('ends each sentence with one full stop, also conditions and reasons that bring their own', () => {
    const withConditions = festVilkarFor(
      fold([
        ...throughAssessment(),
        decided('INTRODUCED_WITH_CONDITIONS', {
          conditions: [
            'Kun andrelinje.',
            'Effekten skal vurderes etter seks måneder',
            'Avsluttes ved progresjon!',
          ],
        }),
      ]),
      options,
    )!;
    expect(withConditions.text).not.toMatch(/\.\.|;\s*\.|!\./);
    expect(withConditions.text).toContain(
      'Vilkår: Kun andrelinje. Effekten skal vurderes etter seks måneder. Avsluttes ved progresjon!',
    );
    expect(sentence(' Slutt. ')).toBe('Slutt.');
    expect(sentence('Slutt')).toBe('Slutt.');
  });

  it('names the indication once, whether the name already says it or not', () => {
    expect(aboutText('Nivolumab til behandling av lungekreft', 'Behandling av lungekreft')).toBe(
      'Nivolumab til behandling av lungekreft',
    );
    expect(
      aboutText(
        'Aflibercept (Eylea) til behandling av makulaødem',
        'Behandling av makulaødem, begrenset til pasienter som ikke tåler etablert behandling',
      ),
    ).toBe(
      'Aflibercept (Eylea) til behandling av makulaødem, begrenset til pasienter som ikke tåler etablert behandling',
    );
    expect(aboutText('Nivolumab til behandling av lungekreft', 'Ikke-småcellet lungekreft')).toBe(
      'Nivolumab til behandling av lungekreft (Ikke-småcellet lungekreft)',
    );
    expect(aboutText('Nivolumab', null)).toBe('Nivolumab');
  });

  it('over the whole demo history: no doubled punctuation, and no text repeats its indication', () => {
    const states = new Map<string, MethodState>();
    for (const event of demoHistory()) {
      const result = applyEvent(states.get(event.methodId), event);
      if (result.ok) states.set(event.methodId, result.value);
    }
    const drafts = [...states.values()].flatMap((s) => festVilkarFor(s, options) ?? []);
    expect(drafts.length).toBeGreaterThan(100);
    const doubled = drafts.filter((d) => /\.\.|;\s*\.|\.\s*;|\s\./.test(d.text));
    expect(doubled.map((d) => d.text)).toEqual([]);
    const repeated = drafts.filter(
      (d) => d.indication && d.text.toLowerCase().split(d.indication.trim().toLowerCase()).length > 2,
    );
    expect(repeated.map((d) => d.text)).toEqual([]);
    // Not vacuous: most texts carry their indication, and some conditions are temporary.
    expect(
      drafts.filter((d) => d.indication && d.text.toLowerCase().includes(d.indication.toLowerCase())).length,
    ).toBeGreaterThan(drafts.length / 2);
    expect(drafts.some((d) => d.statusCode === 'MIDLERTIDIG_INNFORT')).toBe(true);
    expect(drafts.every((d) => d.validTo === null)).toBe(true);
  });
});
