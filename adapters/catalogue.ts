/**
 * Every partner adapter the hub can run, in start order. Add an adapter here with one line; its folder
 * exports an `AdapterDefinition` from `adapter.ts`.
 */
import type { AdapterDefinition } from '../core/hub/component.ts';
import { euJcaAdapter } from './eu-jca/adapter.ts';
import { festAdapter } from './fest/adapter.ts';
import { financingAdapter } from './financing/adapter.ts';
import { hdirAdapter } from './hdir/adapter.ts';
import { slvAdapter } from './slv/adapter.ts';
import { subscriptionsAdapter } from './subscriptions/adapter.ts';

export const adapterCatalogue: readonly AdapterDefinition[] = [
  slvAdapter,
  hdirAdapter,
  financingAdapter,
  festAdapter,
  euJcaAdapter,
  subscriptionsAdapter,
];
