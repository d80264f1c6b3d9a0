import { describe, expect, it } from 'vitest';
import { jcaDocument } from '../../test/emulators/eu-jca/documents.ts';
import { notificationOf, withLinks } from './mapping.ts';
import { norwayPicosFor, picosOf } from './picos.ts';
import { JcaProcedures } from './procedures.ts';

const pico = (population: string, memberStates?: string[]) => ({
  population,
  intervention: 'Pembrolizumab 200 mg every 3 weeks',
  comparator: 'Platinum-based doublet chemotherapy',
  outcomes: ['Overall survival'],
  ...(memberStates ? { memberStates } : {}),
});

describe('PICOs per member state', () => {
  const doc = jcaDocument({
    picos: [
      pico('PD-L1 ≥ 50 %', ['NO', 'SE', 'DE']),
      pico('PD-L1 1-49 %', ['DE', 'FR']),
      pico('Any PD-L1', ['NO']),
      pico('Not said'),
    ],
  });
  const procedures = new JcaProcedures();
  procedures.offer(
    withLinks(notificationOf(doc, '2025-03-03T10:00:00Z'), 'LINKED', ['ID2019_102'], [], false),
  );
  const procedure = procedures.procedure(doc.procedureId)!;

  it('keeps each PICO under every member state that asked for it, and those naming none apart', () => {
    const picos = picosOf(procedure);
    expect(Object.keys(picos.byMemberState).sort()).toEqual(['DE', 'FR', 'NO', 'SE']);
    expect(picos.byMemberState.DE!.map((p) => p.population)).toEqual(['PD-L1 ≥ 50 %', 'PD-L1 1-49 %']);
    expect(picos.unattributed.map((p) => p.population)).toEqual(['Not said']);
    expect(picos.norway.map((p) => p.population)).toEqual(['PD-L1 ≥ 50 %', 'Any PD-L1']);
  });

  it("picks out Norway's PICOs for the linked national method only", () => {
    const answer = norwayPicosFor('ID2019_102', procedures.all(), () => 'SCOPING_STARTED');
    expect(answer.procedures).toHaveLength(1);
    expect(answer.procedures[0]!.norway.map((p) => p.population)).toEqual(['PD-L1 ≥ 50 %', 'Any PD-L1']);
    expect(norwayPicosFor('ID2019_101', procedures.all(), () => 'x').procedures).toEqual([]);
  });

  it('gives an old record without member states (contract default) all as unattributed', () => {
    const old = notificationOf(jcaDocument(), '2025-03-03T10:00:00Z');
    const p = new JcaProcedures();
    p.offer(old);
    const picos = picosOf(p.procedure(old.procedureId)!);
    expect(picos.norway).toEqual([]);
    expect(picos.unattributed).toHaveLength(1);
  });
});
