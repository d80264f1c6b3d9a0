import type { TestProject } from 'vitest/node';
import { resolveTestStack } from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await resolveTestStack();
  process.stderr.write(
    `[stack] tests use the ${stack.kind} stack: ${stack.kafkaBrokers}, ${stack.schemaRegistryUrl}\n`,
  );
  project.provide('kafkaBrokers', stack.kafkaBrokers);
  project.provide('schemaRegistryUrl', stack.schemaRegistryUrl);
  return stack.stop;
}
