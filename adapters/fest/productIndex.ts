/**
 * The product catalogue of a FEST full extract, read streaming (saxes, a SAX parser: the national extract is hundreds
 * of MB) into a compact index: per LegemiddelMerkevare, LegemiddelVirkestoff and Legemiddelpakning its FEST id, level-5
 * ATC code and substances (through VirkestoffMedStyrke to Virkestoff; a package without its own takes its brand's).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';

export const M30_NAMESPACE = 'http://www.kith.no/xmlstds/eresept/m30/2014-12-01';
export const FORSKRIVNING_NAMESPACE = 'http://www.kith.no/xmlstds/eresept/forskrivning/2014-12-01';
export const PRODUCT_ELEMENTS = ['LegemiddelMerkevare', 'LegemiddelVirkestoff', 'Legemiddelpakning'] as const;
export type ProductKind = (typeof PRODUCT_ELEMENTS)[number];

export interface FestProduct {
  /** The product's own Id, or its catalogue entry's (OppfX/Id) where the product has none. */
  id: string;
  kind: ProductKind;
  /** Atc/@V, upper case; undefined where FEST gives none. */
  atc: string | undefined;
  /** Substance names, lower case. */
  substances: string[];
}

export interface ProductIndex {
  /** HentetDato of the extract, as written. */
  fetchedAt: string;
  products: FestProduct[];
}

export class FestSourceError extends Error {
  constructor(
    readonly code: 'FEST_SOURCE_UNREADABLE' | 'FEST_SOURCE_INVALID',
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

interface Pending {
  kind: ProductKind;
  id: string | undefined;
  atc: string | undefined;
  strengthRefs: string[];
  substanceRefs: string[];
  brandRefs: string[];
}

/** A copy of a short string: a slice of a read chunk would keep the whole 256 KB chunk alive in the index. */
const detach = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** The only elements whose text the index reads. */
const CAPTURED = new Set([
  'HentetDato',
  'Id',
  'Navn',
  'RefVirkestoffMedStyrke',
  'RefVirkestoff',
  'RefLegemiddelMerkevare',
]);

const isProduct = (name: string): name is ProductKind =>
  (PRODUCT_ELEMENTS as readonly string[]).includes(name);

/** Reads an extract given as text chunks; refuses (FestSourceError) what is not a well-formed FEST document. */
export async function readProductIndex(chunks: AsyncIterable<string | Buffer>): Promise<ProductIndex> {
  const parser = new SaxesParser({ xmlns: true, position: false });
  const path: string[] = [];
  let text = '';
  let fetchedAt: string | undefined;
  let entryId: string | undefined;
  let product: Pending | undefined;
  let productDepth = 0;
  let substance: { id?: string; name?: string; ref?: string; strength: boolean } | undefined;
  const pending: Pending[] = [];
  const substanceNames = new Map<string, string>();
  const strengthSubstance = new Map<string, string>();
  let failure: string | undefined;
  let capturing = false;

  parser.on('error', (error) => {
    failure ??= error.message;
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const name = tag.local;
    if (path.length === 0 && (name !== 'FEST' || tag.uri !== M30_NAMESPACE))
      failure ??= `the root element is {${tag.uri}}${name}, not FEST in ${M30_NAMESPACE}`;
    const parent = path[path.length - 1];
    path.push(name);
    text = '';
    capturing = CAPTURED.has(name);
    if (product) {
      if (path.length === productDepth + 1 && name === 'Atc') {
        const v = tag.attributes.V;
        const value = typeof v === 'string' ? v : v?.value;
        if (value) product.atc = detach(value.trim().toUpperCase());
      }
      return;
    }
    if (isProduct(name) && tag.uri === FORSKRIVNING_NAMESPACE && parent === `Oppf${name}`) {
      product = {
        // The constant, not the parser's name: that is a slice of the read chunk and would keep the chunk alive.
        kind: PRODUCT_ELEMENTS.find((k) => k === name)!,
        id: undefined,
        atc: undefined,
        strengthRefs: [],
        substanceRefs: [],
        brandRefs: [],
      };
      productDepth = path.length;
    } else if ((name === 'Virkestoff' || name === 'VirkestoffMedStyrke') && parent === 'OppfVirkestoff') {
      substance = { strength: name === 'VirkestoffMedStyrke' };
    }
  });
  parser.on('text', (t) => {
    if (capturing) text += t;
  });
  parser.on('closetag', () => {
    const name = path.pop()!;
    const depth = path.length + 1;
    const value = text.length > 0 ? detach(text.trim()) : '';
    text = '';
    if (product) {
      if (depth === productDepth) {
        product.id ??= entryId;
        pending.push(product);
        product = undefined;
      } else if (depth === productDepth + 1 && name === 'Id') product.id = value;
      else if (name === 'RefVirkestoffMedStyrke') product.strengthRefs.push(value);
      else if (name === 'RefVirkestoff') product.substanceRefs.push(value);
      else if (name === 'RefLegemiddelMerkevare') product.brandRefs.push(value);
      return;
    }
    if (name === 'HentetDato' && depth === 2) fetchedAt = value;
    else if (name === 'Id' && depth === 4 && path[1]?.startsWith('Kat')) entryId = value;
    else if (substance) {
      if (name === 'Id' && depth === 5) substance.id = value;
      else if (name === 'Navn' && depth === 5) substance.name = value;
      else if (name === 'RefVirkestoff' && depth === 5) substance.ref = value;
      else if (depth === 4) {
        if (substance.id && substance.strength && substance.ref)
          strengthSubstance.set(substance.id, substance.ref);
        else if (substance.id && substance.name)
          substanceNames.set(substance.id, substance.name.toLowerCase());
        substance = undefined;
      }
    }
  });

  try {
    for await (const chunk of chunks) {
      parser.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      if (failure) break;
    }
    if (!failure) parser.close();
  } catch (error) {
    if (error instanceof FestSourceError) throw error;
    if (!failure) throw new FestSourceError('FEST_SOURCE_UNREADABLE', (error as Error).message);
  }
  if (failure) throw new FestSourceError('FEST_SOURCE_INVALID', `not a FEST document: ${failure}`);
  if (fetchedAt === undefined) throw new FestSourceError('FEST_SOURCE_INVALID', 'FEST has no HentetDato');

  const byId = new Map<string, FestProduct>();
  const products: FestProduct[] = [];
  const brandRefsOf = new Map<FestProduct, string[]>();
  for (const p of pending) {
    if (p.id === undefined) continue;
    const names = new Set<string>();
    for (const ref of p.strengthRefs) {
      const name = substanceNames.get(strengthSubstance.get(ref) ?? '');
      if (name) names.add(name);
    }
    for (const ref of p.substanceRefs) {
      const name = substanceNames.get(ref);
      if (name) names.add(name);
    }
    const indexed: FestProduct = { id: p.id, kind: p.kind, atc: p.atc, substances: [...names] };
    byId.set(p.id, indexed);
    products.push(indexed);
    if (names.size === 0 && p.brandRefs.length > 0) brandRefsOf.set(indexed, p.brandRefs);
  }
  // Packages (and some virkestoff products) name their substance only through the brand they belong to.
  for (const [indexed, refs] of brandRefsOf) {
    const names = new Set<string>();
    for (const ref of refs) for (const name of byId.get(ref)?.substances ?? []) names.add(name);
    indexed.substances = [...names];
  }
  return { fetchedAt, products };
}
