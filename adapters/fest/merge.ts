/**
 * The FEST source extract with our conditions merged in, as a stream: the source text passes through unchanged while
 * a SAX parser (saxes) finds where to insert our `OppfVilkar` entries (in `KatVilkar`, created at its schema position
 * when absent) and a `RefVilkar` per linked condition in each product (typeLegemiddel: after `LegemiddelformKort`,
 * before `Preparattype`). Only the text of one product's head is held back, so memory does not grow with the extract.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { FORSKRIVNING_NAMESPACE, M30_NAMESPACE, PRODUCT_ELEMENTS } from './productIndex.ts';
import { festVilkarIdOf } from './ids.ts';
import { escapeXml, type RenderOptions, renderOppfVilkar } from './xml.ts';

/** FEST's catalogues in schema order: KatVilkar goes before the first one that comes after it. */
const FEST_CHILDREN = [
  'HentetDato',
  'GyldigFradatoHelfo',
  'KatLegemiddelMerkevare',
  'KatLegemiddelpakning',
  'KatVirkestoff',
  'KatOrdineringVirkestoff',
  'KatLegemiddelVirkestoff',
  'KatHandelsvare',
  'KatDiagnose',
  'KatRefusjon',
  'KatVilkar',
  'KatVarselSlv',
  'KatKodeverk',
  'KatByttegruppe',
  'KatLegemiddeldose',
  'KatInteraksjon',
  'KatStrDosering',
];
const KAT_VILKAR_RANK = FEST_CHILDREN.indexOf('KatVilkar');
/** typeLegemiddel's children up to RefVilkar: ours go after the last of these. */
const BEFORE_REF_VILKAR = new Set([
  'Atc',
  'NavnFormStyrke',
  'Reseptgruppe',
  'LegemiddelformKort',
  'RefVilkar',
]);

export interface MergeInput {
  /** The last good source extract on disk (never changed in place: a reload writes a new file and renames it). */
  sourcePath: string;
  /** Conditions in force, in extract order. */
  conditions: readonly FestVilkar[];
  /** Product FEST id -> Vilkar ids to reference. */
  links: ReadonlyMap<string, readonly string[]>;
  render: RenderOptions;
  /** Conditions rendered per yielded chunk. */
  chunkSize?: number;
}

interface Insertion {
  at: number;
  /** Source text up to here is replaced (a self-closing `<KatVilkar/>`). */
  until: number;
  text: () => Iterable<string>;
}

const qualified = (tag: SaxesTagNS, local: string) => (tag.prefix ? `${tag.prefix}:${local}` : local);

/** Our entries, a chunk at a time; the one place our conditions are rendered into the merged document. */
function* entryChunks(input: MergeInput, declareNamespace: boolean): Generator<string> {
  const size = input.chunkSize ?? 200;
  let chunk = '';
  let count = 0;
  for (const condition of input.conditions) {
    const xml = renderOppfVilkar(condition, input.render);
    chunk += declareNamespace ? xml.replace(/^<OppfVilkar/, `<OppfVilkar xmlns="${M30_NAMESPACE}"`) : xml;
    if (++count === size) {
      yield chunk;
      chunk = '';
      count = 0;
    }
  }
  if (chunk) yield chunk;
}

export async function* mergedFest(input: MergeInput): AsyncGenerator<string> {
  const parser = new SaxesParser({ xmlns: true });
  const insertions: Insertion[] = [];
  const path: string[] = [];
  /** Text from absolute offset `base` on, not yet passed on. */
  let fed = '';
  let base = 0;
  let failure: Error | undefined;
  let vilkarPlaced = false;
  let entryId: string | undefined;
  let text = '';
  let product:
    | { tag: SaxesTagNS; depth: number; insertAt: number; decided: boolean; id?: string }
    | undefined;
  let holdFrom: number | undefined;

  const insert = (at: number, text: () => Iterable<string>, until = at) => {
    insertions.push({ at, until, text });
    insertions.sort((a, b) => a.at - b.at);
  };
  const tagStart = (name: string) => base + fed.lastIndexOf(`<${name}`, parser.position - base);
  const closeTagStart = () => base + fed.lastIndexOf('</', parser.position - base);
  /** Whether unprefixed names are in the M30 namespace at FEST's level (then our entries need no declaration). */
  let festDefaultIsM30 = true;
  let katVilkarDefaultIsM30 = true;
  const wholeKatVilkar = () =>
    function* () {
      yield festDefaultIsM30 ? '<KatVilkar>' : `<KatVilkar xmlns="${M30_NAMESPACE}">`;
      yield* entryChunks(input, false);
      yield '</KatVilkar>';
    };
  const decide = () => {
    if (!product || product.decided) return;
    product.decided = true;
    holdFrom = undefined;
    const refs = input.links.get(product.id ?? entryId ?? '');
    if (!refs || refs.length === 0) return;
    const name = qualified(product.tag, 'RefVilkar');
    // RefVilkar names the condition's Vilkar/Id (ID_<GUID>, kept for its life), not our topic key.
    const xml = refs.map((id) => `<${name}>${escapeXml(festVilkarIdOf(id))}</${name}>`).join('');
    insert(product.insertAt, () => [xml]);
  };
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const parent = path[path.length - 1];
    path.push(tag.local);
    text = '';
    const depth = path.length;
    capturing = tag.local === 'Id' && (depth === 4 || (product !== undefined && depth === product.depth + 1));
    if (depth === 1) festDefaultIsM30 = parser.resolve('') === M30_NAMESPACE;
    if (depth === 2 && !vilkarPlaced) {
      const rank = FEST_CHILDREN.indexOf(tag.local);
      if (tag.local === 'KatVilkar') {
        vilkarPlaced = true;
        katVilkarDefaultIsM30 = parser.resolve('') === M30_NAMESPACE;
        if (tag.isSelfClosing) insert(tagStart(tag.name), wholeKatVilkar(), parser.position);
      } else if (rank > KAT_VILKAR_RANK) {
        vilkarPlaced = true;
        insert(tagStart(tag.name), wholeKatVilkar());
      }
    }
    if (
      !product &&
      depth === 4 &&
      tag.uri === FORSKRIVNING_NAMESPACE &&
      (PRODUCT_ELEMENTS as readonly string[]).includes(tag.local) &&
      parent === `Oppf${tag.local}`
    ) {
      product = { tag, depth, insertAt: parser.position, decided: false };
      holdFrom = parser.position;
    }
  });
  let capturing = false;
  parser.on('text', (t) => {
    if (capturing) text += t;
  });
  parser.on('closetag', (tag: SaxesTagNS) => {
    const depth = path.length;
    path.pop();
    const value = text.trim();
    text = '';
    if (product) {
      if (depth === product.depth + 1) {
        if (BEFORE_REF_VILKAR.has(tag.local)) product.insertAt = parser.position;
        else if (tag.local === 'Id') {
          product.id = value;
          decide();
        }
      } else if (depth === product.depth) {
        decide();
        product = undefined;
      }
      return;
    }
    if (depth === 4 && tag.local === 'Id') entryId = value;
    else if (depth === 2 && tag.local === 'KatVilkar' && !tag.isSelfClosing) {
      const declare = !katVilkarDefaultIsM30;
      insert(closeTagStart(), () => entryChunks(input, declare));
    } else if (depth === 1 && !vilkarPlaced) {
      vilkarPlaced = true;
      insert(closeTagStart(), wholeKatVilkar());
    }
  });

  /** Passes on the text before `limit` with the insertions due there. */
  function* flush(limit: number): Generator<string> {
    while (insertions.length > 0 && insertions[0]!.at <= limit) {
      const next = insertions.shift()!;
      if (next.at > base) {
        yield fed.slice(0, next.at - base);
        fed = fed.slice(next.at - base);
        base = next.at;
      }
      yield* next.text();
      if (next.until > base) {
        fed = fed.slice(next.until - base);
        base = next.until;
      }
    }
    if (limit > base) {
      yield fed.slice(0, limit - base);
      fed = fed.slice(limit - base);
      base = limit;
    }
  }

  // Pieces are joined up to about 64 KB: a stream write per inserted RefVilkar would cost more than the parse.
  let out = '';
  const source = createReadStream(input.sourcePath, { encoding: 'utf8', highWaterMark: 1 << 18 });
  try {
    for await (const chunk of source as AsyncIterable<string>) {
      fed += chunk;
      parser.write(chunk);
      if (failure) break;
      const lastTag = fed.lastIndexOf('<');
      // A tag may still be open at the end of the chunk; a product's head waits for its Id.
      let limit = lastTag < 0 ? base + fed.length : base + lastTag;
      if (holdFrom !== undefined) limit = Math.min(limit, holdFrom);
      for (const piece of flush(limit)) {
        out += piece;
        if (out.length >= 1 << 16) {
          yield out;
          out = '';
        }
      }
    }
    if (!failure) parser.close();
  } finally {
    source.destroy();
  }
  if (failure)
    throw new Error(`FEST_SOURCE_INVALID: ${input.sourcePath} could not be merged: ${failure.message}`);
  for (const piece of flush(base + fed.length)) out += piece;
  if (out) yield out;
}

/** The merged document as a byte stream for an HTTP reply. */
export const mergedFestStream = (input: MergeInput): Readable =>
  Readable.from(mergedFest(input), { objectMode: false });
