/**
 * `npm run contracts:<generate|check|release>`: keeps contracts/generated/ and contracts/released/ in step
 * with contracts/avro/ and contracts/topics.ts.
 */
import { relative } from 'node:path';
import { Command } from 'commander';
import { checkCompatibility, defaultReleasedDir, describeTopic, releaseContracts } from './compatibility.ts';
import { REGENERATE, repoRoot, staleGenerated, staleReason, writeGenerated } from './generate.ts';

class ContractsFailure extends Error {}

const show = (path: string): string => relative(repoRoot, path);

const program = new Command()
  .name('contracts')
  .description('Generate, check and release the Avro contracts of every topic.')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nSources: contracts/avro/*.avsc and contracts/topics.ts. Outputs: contracts/generated/ and contracts/released/.',
  );

program
  .command('generate')
  .description('Write contracts/generated/: types.ts, asyncapi.json and README.md.')
  .addHelpText(
    'after',
    '\nRun after changing a contract or a topic declaration, and commit the result: `check` fails on stale files.',
  )
  .action(() => {
    for (const path of writeGenerated()) console.log(`wrote ${path}`);
  });

program
  .command('check')
  .description(
    'Fail when a generated file is stale, or a contract is not FULL compatible with every released version.',
  )
  .addHelpText(
    'after',
    '\nFULL_TRANSITIVE: the current schema must read data written with each released version, and each released\n' +
      'version must read data written with the current one. A topic with no released version passes.',
  )
  .action(() => {
    const problems: string[] = [];
    const stale = staleGenerated();
    if (stale.length === 0) console.log('generated files are fresh');
    problems.push(...stale.map(staleReason));
    const report = checkCompatibility();
    for (const topic of report.topics) console.log(describeTopic(topic));
    problems.push(...report.failures);
    if (problems.length > 0) {
      throw new ContractsFailure(
        `${problems.length} contract problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}` +
          (stale.length > 0 ? `\nFix stale files with \`${REGENERATE}\`.` : ''),
      );
    }
    console.log('contracts: ok');
  });

program
  .command('release')
  .description('Release every contract that changed since its newest released version as the next v<N>.avsc.')
  .addHelpText(
    'after',
    `\nWrites ${show(defaultReleasedDir)}/<topic>-value/v<N>.avsc after checking FULL compatibility with every\n` +
      'earlier version; when any changed contract fails, nothing is written. Commit the new files.',
  )
  .action(() => {
    const result = releaseContracts();
    if (result.failures.length > 0) {
      throw new ContractsFailure(
        `nothing released: ${result.failures.length} incompatibility(ies):\n` +
          result.failures.map((f) => `  ${f}`).join('\n'),
      );
    }
    for (const r of result.released) console.log(`released ${r.topic} v${r.version} -> ${show(r.file)}`);
    for (const topic of result.unchanged) console.log(`${topic}: unchanged`);
    if (result.released.length === 0) console.log('nothing to release');
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(error instanceof ContractsFailure ? error.message : `contracts: ${(error as Error).message}`);
  process.exitCode = 1;
}
