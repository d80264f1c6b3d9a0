/**
 * Which guidelines and cancer programmes (handlingsprogram) a method is relevant to: the case system's
 * explicit flags (`guidelineFlags` in method details), and declared rules kept as configuration
 * (specialty, ATC prefix, indication text, method type -> guideline code). Pure, apart from reading the file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlagOrigin, MethodDetails, MethodType } from '../../contracts/generated/types.ts';
import { MethodTypeValues } from '../../contracts/generated/types.ts';

export type GuidelineKind = 'GUIDELINE' | 'CANCER_PROGRAMME';

export interface Guideline {
  /** Our code, as the case system marks it: HP-... for cancer programmes, NFR-... for guidelines. */
  code: string;
  kind: GuidelineKind;
  name: string;
  /** Days from decision to implemented before the run is overdue; the HDIR_DEADLINE_DAYS setting if unset. */
  deadlineDays?: number;
}

export interface FlagRule {
  id: string;
  /** Every condition given must hold. */
  when: { specialty?: string; atcPrefix?: string; indication?: string; methodType?: MethodType };
  flag: string;
}

export interface RuleBook {
  source: string;
  guidelines: Map<string, Guideline>;
  rules: FlagRule[];
}

/** Why a method is flagged for one guideline. */
export interface FlagReason {
  guidelineId: string;
  origin: FlagOrigin;
  ruleId: string | null;
}

export const defaultRulesFile = resolve(dirname(fileURLToPath(import.meta.url)), 'rules.default.json');

export class RulesError extends Error {
  override name = 'RulesError';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a rules document and lists every problem at once, each naming the entry it is about. */
export function parseRules(json: unknown, source: string): RuleBook {
  const problems: string[] = [];
  const guidelines = new Map<string, Guideline>();
  const rules: FlagRule[] = [];
  if (!isRecord(json)) throw new RulesError(`${source}: must be an object with "guidelines" and "rules"`);
  const rawGuidelines = Array.isArray(json.guidelines) ? json.guidelines : [];
  if (!Array.isArray(json.guidelines)) problems.push('"guidelines" must be an array');
  rawGuidelines.forEach((g, i) => {
    const where = `guidelines[${i}]`;
    if (!isRecord(g) || typeof g.code !== 'string' || g.code === '') {
      problems.push(`${where}: needs a "code"`);
      return;
    }
    if (guidelines.has(g.code)) problems.push(`${where}: code ${g.code} is declared twice`);
    if (g.kind !== 'GUIDELINE' && g.kind !== 'CANCER_PROGRAMME')
      problems.push(`${where} (${g.code}): "kind" must be GUIDELINE or CANCER_PROGRAMME`);
    if (typeof g.name !== 'string' || g.name === '') problems.push(`${where} (${g.code}): needs a "name"`);
    if (g.deadlineDays !== undefined && !(typeof g.deadlineDays === 'number' && g.deadlineDays > 0))
      problems.push(`${where} (${g.code}): "deadlineDays" must be a positive number`);
    guidelines.set(g.code, {
      code: g.code,
      kind: g.kind as GuidelineKind,
      name: String(g.name),
      ...(typeof g.deadlineDays === 'number' ? { deadlineDays: g.deadlineDays } : {}),
    });
  });
  const rawRules = Array.isArray(json.rules) ? json.rules : [];
  if (!Array.isArray(json.rules)) problems.push('"rules" must be an array');
  const ids = new Set<string>();
  rawRules.forEach((r, i) => {
    const where = `rules[${i}]`;
    if (!isRecord(r) || typeof r.id !== 'string' || r.id === '') {
      problems.push(`${where}: needs an "id"`);
      return;
    }
    if (ids.has(r.id)) problems.push(`${where}: id ${r.id} is used twice`);
    ids.add(r.id);
    if (typeof r.flag !== 'string' || !guidelines.has(r.flag))
      problems.push(`${where} (${r.id}): "flag" ${JSON.stringify(r.flag)} is not a declared guideline code`);
    const when = isRecord(r.when) ? r.when : {};
    const known = ['specialty', 'atcPrefix', 'indication', 'methodType'];
    const given = Object.keys(when);
    if (given.length === 0)
      problems.push(`${where} (${r.id}): "when" needs at least one of ${known.join(', ')}`);
    for (const key of given) {
      if (!known.includes(key)) problems.push(`${where} (${r.id}): unknown condition "${key}"`);
      else if (typeof when[key] !== 'string' || when[key] === '')
        problems.push(`${where} (${r.id}): "${key}" must be a non-empty string`);
    }
    if (when.methodType !== undefined && !MethodTypeValues.includes(when.methodType as MethodType))
      problems.push(`${where} (${r.id}): "methodType" must be one of ${MethodTypeValues.join(', ')}`);
    rules.push({ id: r.id, when: when as FlagRule['when'], flag: String(r.flag) });
  });
  if (problems.length > 0)
    throw new RulesError(`${source} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  return { source, guidelines, rules };
}

export function loadRules(file: string): RuleBook {
  const path = resolve(file || defaultRulesFile);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RulesError(`HDIR_RULES_FILE ${path} could not be read as JSON: ${(error as Error).message}`);
  }
  return parseRules(json, path);
}

const folded = (s: string | null | undefined): string => (s ?? '').toLocaleLowerCase('nb');

export function ruleMatches(rule: FlagRule, details: MethodDetails): boolean {
  const { specialty, atcPrefix, indication, methodType } = rule.when;
  if (specialty !== undefined && folded(details.specialty) !== folded(specialty)) return false;
  if (methodType !== undefined && details.methodType !== methodType) return false;
  if (
    atcPrefix !== undefined &&
    !details.atcCodes.some((c) => c.toUpperCase().startsWith(atcPrefix.toUpperCase()))
  )
    return false;
  if (indication !== undefined) {
    const text = `${folded(details.indication)} ${folded(details.name)}`;
    if (!text.includes(folded(indication))) return false;
  }
  return true;
}

/**
 * Every guideline a method with these details is relevant to: the explicit flags first (they win), then
 * the first rule that names each further guideline. In a stable order (by guideline code).
 */
export function guidelinesFor(details: MethodDetails, book: RuleBook): FlagReason[] {
  const reasons = new Map<string, FlagReason>();
  for (const code of details.guidelineFlags) {
    const trimmed = code.trim();
    if (trimmed) reasons.set(trimmed, { guidelineId: trimmed, origin: 'EXPLICIT', ruleId: null });
  }
  for (const rule of book.rules) {
    if (reasons.has(rule.flag) || !ruleMatches(rule, details)) continue;
    reasons.set(rule.flag, { guidelineId: rule.flag, origin: 'RULE', ruleId: rule.id });
  }
  return [...reasons.values()].sort((a, b) => a.guidelineId.localeCompare(b.guidelineId));
}
