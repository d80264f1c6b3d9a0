import { describe, expect, it } from 'vitest';
import type { MethodState } from '../../contracts/generated/types.ts';
import { newMethodState } from '../../core/lifecycle/applyEvent.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { decideLink, indicationSimilarity, substancesOf } from './linking.ts';
import { proposalMethodId } from './mapping.ts';

const method = (methodId: string, details: Parameters<typeof medicineDetails>[0]): MethodState =>
  newMethodState(methodEvent('METHOD_REGISTERED', methodId, { details: medicineDetails(details) }));

const catalogue = [
  method('ID2019_010', {
    indication: 'førstelinjebehandling av metastatisk ikke-småcellet lungekreft med PD-L1-uttrykk ≥ 50 %',
  }),
  method('ID2020_011', {
    indication: 'adjuvant behandling av melanom i stadium III etter fullstendig reseksjon',
  }),
  method('ID2021_012', { indication: 'behandling av tidlig trippelnegativ brystkreft før og etter kirurgi' }),
  method('ID2018_013', {
    name: 'Nivolumab',
    substances: ['nivolumab'],
    atcCodes: ['L01FF01'],
    indication: 'andrelinjebehandling av avansert ikke-småcellet lungekreft',
  }),
];
const thresholds = { link: 0.75, candidate: 0.4, margin: 0.1, sameIndication: 0.35 };

describe('linking a JCA to national methods', () => {
  it('links the one method with the same substance and indication', () => {
    const decision = decideLink(
      {
        inn: 'pembrolizumab',
        atcCode: 'L01FF02',
        indication: 'Adjuvant treatment of stage III melanoma after complete resection',
      },
      catalogue,
      thresholds,
    );
    expect(decision.outcome).toBe('LINKED');
    expect(decision.methodIds).toEqual(['ID2020_011']);
    expect(decision.candidates[0]!.reasons.join(' ')).toMatch(
      /ATC code L01FF02.*INN pembrolizumab.*indication/,
    );
    expect(decision.candidates.map((c) => c.methodId)).toContain('ID2019_010');
  });

  it('lists scored candidates when two methods fit as well', () => {
    const twins = [...catalogue, method('ID2022_014', { indication: catalogue[1]!.details.indication })];
    const decision = decideLink(
      { inn: 'pembrolizumab', atcCode: 'L01FF02', indication: 'Adjuvant treatment of stage III melanoma' },
      twins,
      thresholds,
    );
    expect(decision.outcome).toBe('AMBIGUOUS');
    expect(
      decision.candidates
        .slice(0, 2)
        .map((c) => c.methodId)
        .sort(),
    ).toEqual(['ID2020_011', 'ID2022_014']);
    expect(decision.candidates[0]!.score).toBeGreaterThan(0.75);
  });

  it('sees a new indication of a known substance', () => {
    const decision = decideLink(
      {
        inn: 'pembrolizumab',
        atcCode: 'L01FF02',
        indication: 'Treatment of relapsed classical Hodgkin lymphoma',
      },
      catalogue,
      thresholds,
    );
    expect(decision.outcome).toBe('NEW_INDICATION');
    if (decision.outcome === 'NEW_INDICATION') expect(decision.sameSubstanceAs).toMatch(/^ID20\d\d_01[0-2]$/);
  });

  it('finds nothing for a substance the catalogue lacks', () => {
    const decision = decideLink(
      {
        inn: 'tarlatamab',
        atcCode: 'L01FX36',
        indication: 'Small cell lung cancer after platinum chemotherapy',
      },
      catalogue,
      thresholds,
    );
    expect(decision.outcome).toBe('NONE');
  });

  it('reads INN combinations and compares English with Norwegian indications', () => {
    expect(substancesOf('Nivolumab + Ipilimumab')).toEqual(['nivolumab', 'ipilimumab']);
    expect(
      indicationSimilarity(
        'Treatment of early triple-negative breast cancer before and after surgery',
        'behandling av tidlig trippelnegativ brystkreft før og etter kirurgi',
      ),
    ).toBeGreaterThan(0.9);
    expect(indicationSimilarity('Multiple myeloma', 'adjuvant behandling av melanom')).toBeLessThan(0.35);
  });

  it('gives proposals the highest free serial of the year', () => {
    const taken = new Set(['ID2025_999', 'ID2025_998']);
    expect(proposalMethodId(2025, (id) => taken.has(id))).toBe('ID2025_997');
  });
});
