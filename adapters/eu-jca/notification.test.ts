import { describe, expect, it } from 'vitest';
import { hostile, jcaDocument } from '../../test/emulators/eu-jca/documents.ts';
import { checkDocument, documentFromJson } from './notification.ts';

describe('the JCA notification contract', () => {
  it('accepts a realistic notification', () => {
    expect(checkDocument(jcaDocument()).ok).toBe(true);
  });

  it('refuses malformed JSON, saying where', () => {
    const checked = documentFromJson(hostile.malformedJson());
    expect(checked).toMatchObject({ ok: false, status: 400, code: 'MALFORMED_JSON' });
  });

  it('refuses an unknown schema version with 422', () => {
    const checked = checkDocument(hostile.unknownVersion());
    expect(checked).toMatchObject({ ok: false, status: 422, code: 'UNSUPPORTED_SCHEMA_VERSION' });
    if (!checked.ok) expect(checked.detail).toContain('"2.0"');
  });

  it('lists every schema problem with its path', () => {
    const doc = { ...jcaDocument(), procedureVersion: 0, milestoneOn: '2025-13-01', extra: 1 } as unknown;
    const checked = checkDocument(doc);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.status).toBe(400);
      const paths = checked.problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['procedureVersion', 'milestoneOn', '(document)']));
    }
  });

  it('needs an INN for a medicine, not for a device', () => {
    const medicine = checkDocument(jcaDocument({ technology: { inn: undefined } }));
    expect(medicine.ok).toBe(false);
    if (!medicine.ok) expect(medicine.problems.some((p) => p.reason.includes('"inn"'))).toBe(true);
    const device = jcaDocument({
      technology: { type: 'MEDICAL_DEVICE', inn: undefined, atcCode: undefined },
    });
    expect(checkDocument(device).ok).toBe(true);
  });

  it('refuses content rules a schema cannot say, with 422', () => {
    const checked = checkDocument(
      jcaDocument({
        assessor: 'SE',
        coAssessor: 'SE',
        technology: { atcCode: 'X01AA01' },
        dates: { scopingStartedOn: '2025-05-01', scopeAgreedOn: '2025-04-01' },
      }),
    );
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.status).toBe(422);
      expect(checked.problems.map((p) => p.code).sort()).toEqual([
        'INVALID_ATC_CODE',
        'INVALID_DATES',
        'SAME_ASSESSOR',
      ]);
    }
  });

  it('refuses an array or a prototype-polluting key without polluting', () => {
    expect(checkDocument([jcaDocument()])).toMatchObject({ ok: false, status: 400 });
    const checked = documentFromJson(hostile.protoJson());
    expect(checked.ok).toBe(false);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
