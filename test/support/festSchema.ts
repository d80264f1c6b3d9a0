/**
 * The official FEST 2.5.1 (eResept M30 2014-12-01) schemas, applied by libxml2 (xmllint-wasm: no native build).
 * The schemas are not copied into the project: they are read from `shared/reference/fest-2.5.1/` beside the checkout
 * (or FEST_SCHEMA_DIR); where they are absent, `officialFestSchemas()` answers undefined and the caller skips.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { memoryPages, validateXML } from 'xmllint-wasm';

const MAIN = 'R1808-eResept-M30-2014-12-01/ER-M30-2014-12-01';
const SUPPORT = ['felles/kith.xsd', 'felles/kith-base64.xsd', 'felles/xml.xsd'];

/** The folder holding the official schemas, looked for from the checkout upwards; undefined when there is none. */
export const officialFestSchemas = (): string | undefined => {
  const named = process.env.FEST_SCHEMA_DIR;
  if (named !== undefined && named !== '') return existsSync(join(named, `${MAIN}.xsd`)) ? named : undefined;
  let dir = resolve(import.meta.dirname, '../..');
  for (;;) {
    const candidate = join(dir, 'shared/reference/fest-2.5.1');
    if (existsSync(join(candidate, `${MAIN}.xsd`))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
};

export interface FestSchemaVerdict {
  valid: boolean;
  /** libxml2's messages, each with its line: "extract.xml:12: Element 'Vilkar': ..." */
  errors: string[];
}

/**
 * Validates one document against the official strict schema (IDREFs must resolve) or its loose variant (IDREFs as
 * strings, for extracts that reference ids outside the document).
 */
export const validateOfficialFest = async (
  xml: string | Uint8Array,
  options: { loose?: boolean; dir?: string } = {},
): Promise<FestSchemaVerdict> => {
  const dir = options.dir ?? officialFestSchemas();
  if (dir === undefined)
    throw new Error('FEST_SCHEMAS_MISSING: no shared/reference/fest-2.5.1 beside the checkout');
  const variant = options.loose === true ? '-loose' : '';
  const file = (name: string) => ({ fileName: name, contents: readFileSync(join(dir, name), 'utf8') });
  const result = await validateXML({
    xml: [{ fileName: 'extract.xml', contents: xml }],
    schema: [file(`${MAIN}${variant}.xsd`)],
    preload: [file(`felles/Forskrivning-2014-12-01${variant}.xsd`), ...SUPPORT.map(file)],
    maxMemoryPages: 2 * memoryPages.GiB,
  });
  return {
    valid: result.valid,
    errors: result.errors.map((e) =>
      e.loc === null ? e.message : `${e.loc.fileName}:${e.loc.lineNumber}: ${e.message}`,
    ),
  };
};
