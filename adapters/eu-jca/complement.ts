/**
 * What Norway still has to add to a JCA. The JCA covers the clinical domains only (health problem, current
 * technologies, technical characteristics, relative effectiveness and safety); health economics, ethics
 * and organisation stay national (Regulation (EU) 2021/2282). Pure.
 */
import type { Milestone, TechnologyType } from './notification.ts';

export type NationalComplement = 'HEALTH_ECONOMICS' | 'ORGANISATION';

/**
 * Health economics (cost-effectiveness, budget impact) for every technology; organisation (centres,
 * competence, logistics) for advanced therapies, devices and diagnostics, which change how care is run.
 * A withdrawn procedure needs nothing.
 */
export function nationalComplementNeeded(
  technologyType: TechnologyType | string,
  milestone: Milestone | string,
): NationalComplement[] {
  if (milestone === 'WITHDRAWN') return [];
  const needed: NationalComplement[] = ['HEALTH_ECONOMICS'];
  if (['ATMP', 'MEDICAL_DEVICE', 'IN_VITRO_DIAGNOSTIC'].includes(technologyType)) needed.push('ORGANISATION');
  return needed;
}
