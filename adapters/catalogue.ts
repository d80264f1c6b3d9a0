/**
 * Every partner adapter the hub can run, in start order. Add an adapter here with one line; its folder
 * exports an `AdapterDefinition` from `adapter.ts`.
 */
import type { AdapterDefinition } from '../core/hub/component.ts';
import { festAdapter } from './fest/adapter.ts';

export const adapterCatalogue: readonly AdapterDefinition[] = [festAdapter];
