/**
 * The trust-boundary guard. Every output that leaves the hub (a partner topic, an HTTP answer, an XML
 * extract, a webhook) runs through it: it refuses when a field marked `"confidential": true` in a contract
 * carries a value, or when any confidential value of the source the output was made from appears in it.
 */
import { contractFor } from '../contracts/catalogue.ts';
import { ConfidentialLeak } from './errors.ts';

/** Values at a dotted path (`a.b[].c`) of a plain object, skipping null and undefined. */
function valuesAt(value: unknown, path: string[]): unknown[] {
  if (value === null || value === undefined) return [];
  if (path.length === 0) return [value];
  const [head, ...rest] = path as [string, ...string[]];
  if (head.endsWith('[]')) {
    const items = (value as Record<string, unknown>)[head.slice(0, -2)];
    return Array.isArray(items) ? items.flatMap((item) => valuesAt(item, rest)) : [];
  }
  return valuesAt((value as Record<string, unknown>)[head], rest);
}

/** The confidential paths of a contract value that carry something. */
export function confidentialFieldsSet(topic: string, value: unknown): string[] {
  return contractFor(topic).confidentialPaths.filter((path) => valuesAt(value, splitPath(path)).length > 0);
}

const splitPath = (path: string): string[] => path.split('.');

export interface GuardSource {
  topic: string;
  value: unknown;
}

/**
 * Throws ConfidentialLeak unless `output` is free of confidential data. `output` is what will leave:
 * a contract value (give `outputTopic`), or any text/object (checked against the sources' confidential values).
 */
export function guardOutbound(
  outputName: string,
  output: unknown,
  options: { outputTopic?: string; sources?: GuardSource[] } = {},
): void {
  const leaks: string[] = [];
  if (options.outputTopic) leaks.push(...confidentialFieldsSet(options.outputTopic, output));
  const secrets = (options.sources ?? []).flatMap((s) => {
    const carried = contractFor(s.topic).confidentialPaths.flatMap((path) =>
      valuesAt(s.value, splitPath(path)).map((v) => ({ path: `${s.topic}:${path}`, text: String(v) })),
    );
    // Most sources carry no confidential value: then there is no public copy to make.
    if (carried.length === 0) return [];
    // A value the source also carries in a public field (a note that only repeats the substance) is no secret.
    const publicText = JSON.stringify(withoutConfidential(s.topic, s.value));
    return carried.filter((secret) => !publicText.includes(JSON.stringify(secret.text).slice(1, -1)));
  });
  if (secrets.length > 0) {
    const text =
      typeof output === 'string'
        ? output
        : Buffer.isBuffer(output)
          ? output.toString('utf8')
          : JSON.stringify(output);
    for (const secret of secrets) {
      // Very short values (a digit, "ja") would match by chance; the marked fields are notes and links.
      if (secret.text.length >= 4 && text.includes(secret.text)) leaks.push(secret.path);
    }
  }
  if (leaks.length > 0) throw new ConfidentialLeak(outputName, [...new Set(leaks)]);
}

/** A copy of a contract value with every confidential field set to null: for outputs built from it. */
export function withoutConfidential<T>(topic: string, value: T): T {
  const copy = structuredClone(value);
  for (const path of contractFor(topic).confidentialPaths) nullAt(copy, splitPath(path));
  return copy;
}

function nullAt(value: unknown, path: string[]): void {
  if (value === null || typeof value !== 'object' || path.length === 0) return;
  const [head, ...rest] = path as [string, ...string[]];
  const record = value as Record<string, unknown>;
  if (head.endsWith('[]')) {
    const items = record[head.slice(0, -2)];
    if (Array.isArray(items)) for (const item of items) nullAt(item, rest);
  } else if (rest.length === 0) {
    if (head in record) record[head] = null;
  } else nullAt(record[head], rest);
}

/** What an operator's view shows in place of a confidential value. */
export const REDACTED = '<redacted: confidential>';

/** A copy of a contract value with every confidential field that carries a value replaced by REDACTED. */
export function redactConfidential<T>(topic: string, value: T): T {
  const copy = structuredClone(value);
  for (const path of contractFor(topic).confidentialPaths) redactAt(copy, splitPath(path));
  return copy;
}

function redactAt(value: unknown, path: string[]): void {
  if (value === null || typeof value !== 'object' || path.length === 0) return;
  const [head, ...rest] = path as [string, ...string[]];
  const record = value as Record<string, unknown>;
  if (head.endsWith('[]')) {
    const items = record[head.slice(0, -2)];
    if (Array.isArray(items)) for (const item of items) redactAt(item, rest);
  } else if (rest.length === 0) {
    if (record[head] !== null && record[head] !== undefined) record[head] = REDACTED;
  } else redactAt(record[head], rest);
}

/** The confidential values a contract value carries, as text: to scrub from text made from it (a reason). */
export function confidentialValuesOf(topic: string, value: unknown): string[] {
  return contractFor(topic)
    .confidentialPaths.flatMap((path) => valuesAt(value, splitPath(path)).map(String))
    .filter((text) => text.length >= 4); // as in guardOutbound: short values would match by chance
}

/** A copy of `value` with every occurrence of a secret in any of its strings replaced by REDACTED. */
export function scrubbed<T>(value: T, secrets: string[]): T {
  if (secrets.length === 0) return value;
  const scrub = (v: unknown): unknown => {
    if (typeof v === 'string') return secrets.reduce((text, s) => text.replaceAll(s, REDACTED), v);
    if (Array.isArray(v)) return v.map(scrub);
    if (v && typeof v === 'object' && !Buffer.isBuffer(v))
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, scrub(item)]));
    return v;
  };
  return scrub(value) as T;
}
