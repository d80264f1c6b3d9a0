#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so `npx metodehub` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
await main();
