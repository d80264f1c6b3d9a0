import { describe, expect, it } from 'vitest';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { medicineDetails } from '../demo/fixtures.ts';
import { methodEvent } from '../lifecycle/eventBuilder.ts';
import { confidentialFieldsSet, guardOutbound, withoutConfidential } from './confidential.ts';
import { ConfidentialLeak } from './errors.ts';

const secretNote = 'Leverandøren tilbyr 42 % rabatt ved volum over 500 pakninger';
const event: MethodEvent = methodEvent('METHOD_REGISTERED', 'ID2023_007', {
  details: medicineDetails({ supplierConfidentialNote: secretNote }),
});

describe('the trust-boundary guard', () => {
  it('finds the confidential fields a contract value carries', () => {
    expect(confidentialFieldsSet('nyemetoder.method-events.v1', event)).toEqual([
      'registered.details.supplierConfidentialNote',
    ]);
  });

  it('refuses an output value with a confidential field set, naming it', () => {
    expect(() =>
      guardOutbound('fest extract', event, { outputTopic: 'nyemetoder.method-events.v1' }),
    ).toThrow(ConfidentialLeak);
    expect(() =>
      guardOutbound('fest extract', event, { outputTopic: 'nyemetoder.method-events.v1' }),
    ).toThrow(
      /CONFIDENTIAL_LEAK: fest extract would carry confidential registered\.details\.supplierConfidentialNote/,
    );
  });

  it('refuses any text that contains a confidential value of the source it was made from', () => {
    const xml = `<Vilkar><Tekst>${secretNote}</Tekst></Vilkar>`;
    expect(() =>
      guardOutbound('FEST XML', xml, { sources: [{ topic: 'nyemetoder.method-events.v1', value: event }] }),
    ).toThrow(/nyemetoder\.method-events\.v1:registered\.details\.supplierConfidentialNote/);
    expect(() =>
      guardOutbound('FEST XML', '<Vilkar><Tekst>Innført</Tekst></Vilkar>', {
        sources: [{ topic: 'nyemetoder.method-events.v1', value: event }],
      }),
    ).not.toThrow();
  });

  it('lets an output carry a value the source also holds in a public field (a note that only repeats the substance)', () => {
    const details = medicineDetails();
    const substance = details.substances[0]!;
    const echo: MethodEvent = methodEvent('DETAILS_CHANGED', 'ID2023_008', {
      details: { ...details, supplierConfidentialNote: substance },
    });
    const sources = [{ topic: 'nyemetoder.method-events.v1', value: echo }];
    expect(() => guardOutbound('financing feed', { substance }, { sources })).not.toThrow();
    // A real secret beside it is still refused.
    const secret: MethodEvent = methodEvent('DETAILS_CHANGED', 'ID2023_008', {
      details: { ...details, supplierConfidentialNote: secretNote },
    });
    expect(() =>
      guardOutbound(
        'financing feed',
        { substance, note: secretNote },
        {
          sources: [{ topic: 'nyemetoder.method-events.v1', value: secret }],
        },
      ),
    ).toThrow(ConfidentialLeak);
  });

  it('strips every confidential field from a copy and leaves the original alone', () => {
    const state = {
      details: medicineDetails({ supplierConfidentialNote: secretNote }),
      priceAgreement: {
        confidentialPriceNoteUrl: 'https://intern/prisnotat/ID2023_007.pdf',
        agreementType: 'FLAT_DISCOUNT',
      },
    } as unknown as MethodState;
    const clean = withoutConfidential('nyemetoder.method-state.v1', state);
    expect(clean.details.supplierConfidentialNote).toBeNull();
    expect(clean.priceAgreement?.confidentialPriceNoteUrl).toBeNull();
    expect(clean.priceAgreement?.agreementType).toBe('FLAT_DISCOUNT');
    expect(state.details.supplierConfidentialNote).toBe(secretNote);
    expect(() =>
      guardOutbound('state answer', clean, { outputTopic: 'nyemetoder.method-state.v1' }),
    ).not.toThrow();
  });
});
