/**
 * Which FEST products each condition governs: a product with an ATC code is linked to every condition whose method
 * has that level-5 code; a product without one, and a method without a level-5 code, are matched by substance.
 */
import type { FestVilkar } from '../../contracts/generated/types.ts';
import type { FestProduct } from './productIndex.ts';

export interface ConditionLinks {
  /** Product FEST id -> the Vilkar ids to reference (RefVilkar), in catalogue order. */
  byProduct: Map<string, string[]>;
  /** Vilkar id -> the FEST ids of the products linked to it. */
  byCondition: Map<string, string[]>;
}

const LEVEL_5 = /^[A-Z]\d\d[A-Z][A-Z]\d\d$/;

const add = (map: Map<string, string[]>, key: string, value: string) => {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
};

/** Links conditions in force (withdrawn ones carry no Vilkar to reference) to the products of an extract. */
export function linkConditions(
  products: readonly FestProduct[],
  conditions: readonly FestVilkar[],
): ConditionLinks {
  const byAtc = new Map<string, string[]>();
  const bySubstance = new Map<string, string[]>();
  const bySubstanceOnly = new Map<string, string[]>();
  for (const condition of conditions) {
    if (condition.withdrawn) continue;
    const codes = condition.atcCodes.map((c) => c.trim().toUpperCase()).filter((c) => LEVEL_5.test(c));
    for (const code of codes) add(byAtc, code, condition.vilkarId);
    for (const substance of condition.substances) {
      const name = substance.trim().toLowerCase();
      add(bySubstance, name, condition.vilkarId);
      if (codes.length === 0) add(bySubstanceOnly, name, condition.vilkarId);
    }
  }
  const byProduct = new Map<string, string[]>();
  const byCondition = new Map<string, string[]>();
  for (const product of products) {
    const matched: string[] = [];
    const take = (ids: string[] | undefined) => {
      for (const id of ids ?? []) if (!matched.includes(id)) matched.push(id);
    };
    if (product.atc) {
      take(byAtc.get(product.atc));
      for (const s of product.substances) take(bySubstanceOnly.get(s));
    } else for (const s of product.substances) take(bySubstance.get(s));
    if (matched.length === 0) continue;
    byProduct.set(product.id, matched);
    for (const id of matched) {
      const list = byCondition.get(id);
      if (list) list.push(product.id);
      else byCondition.set(id, [product.id]);
    }
  }
  return { byProduct, byCondition };
}
