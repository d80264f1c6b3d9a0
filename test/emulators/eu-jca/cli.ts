/**
 * Posts realistic JCA traffic to a running hub, as the EU side would: whole procedures (scoping to
 * report) in JSON and XML, a resend, a milestone out of order, and with --hostile every malformed and
 * hostile document. Prints each answer in one line.
 *
 *   npx tsx test/emulators/eu-jca/cli.ts --hub http://127.0.0.1:8080 --token "$TOKEN" [--procedures 3] [--hostile]
 */
import { Command } from 'commander';
import { jcaDocument } from './documents.ts';
import { startEuPlatform } from './platform.ts';
import { JcaSender } from './sender.ts';

const options = new Command('eu-jca-sender')
  .description('Stand-in EU HTA sender: posts JCA notifications to /jca/v1/intake')
  .requiredOption('--hub <url>', 'the hub, e.g. http://127.0.0.1:8080')
  .requiredOption(
    '--token <jwt>',
    'a token with the intake scope (npx metodehub token --scopes eu-jca:intake:write)',
  )
  .option('--procedures <n>', 'procedures to send from scoping to report', (v) => Number(v), 3)
  .option('--hostile', 'also send every malformed and hostile document', false)
  .option(
    '--max-bytes <n>',
    "the hub's JCA_MAX_BODY_BYTES, to size the oversized body",
    (v) => Number(v),
    262_144,
  )
  .parse()
  .opts<{ hub: string; token: string; procedures: number; hostile: boolean; maxBytes: number }>();

const products = [
  {
    inn: 'pembrolizumab',
    atcCode: 'L01FF02',
    tradeName: 'Keytruda',
    indication: 'Adjuvant treatment of stage III melanoma after complete resection',
  },
  {
    inn: 'nivolumab',
    atcCode: 'L01FF01',
    tradeName: 'Opdivo',
    indication: 'Second-line treatment of advanced non-small cell lung cancer',
  },
  {
    inn: 'tarlatamab',
    atcCode: 'L01FX36',
    tradeName: 'Imdelltra',
    indication: 'Extensive-stage small cell lung cancer after platinum-based chemotherapy',
  },
];

const line = (what: string, r: { status: number; body: Record<string, unknown>; ms: number }) => {
  const linking = r.body.linking as { outcome?: string; linkedMethodIds?: string[] } | undefined;
  const summary = linking
    ? `${r.body.outcome} ${linking.outcome} ${linking.linkedMethodIds?.join(',') ?? ''}${r.body.outOfOrder ? ' OUT_OF_ORDER' : ''}`
    : `${r.body.code ?? r.body.outcome ?? ''} ${String(r.body.detail ?? '').slice(0, 100)}`;
  console.log(`${what.padEnd(42)} ${r.status} ${r.ms.toFixed(0).padStart(5)} ms  ${summary}`);
};

async function main() {
  const sender = new JcaSender(options.hub, options.token);
  for (let i = 0; i < options.procedures; i++) {
    const p = products[i % products.length]!;
    const base = jcaDocument({
      technology: { inn: p.inn, atcCode: p.atcCode, tradeName: p.tradeName },
      indication: p.indication,
    });
    const life = JcaSender.lifeOf(base, 'REPORT_PUBLISHED');
    for (const [n, doc] of life.entries()) {
      if (n === 2 && i % 2 === 1) continue; // sent late below
      line(
        `${doc.procedureId} v${doc.procedureVersion} ${doc.milestone}`,
        await sender.post(doc, n % 2 ? 'xml' : 'json'),
      );
    }
    if (i % 2 === 1) line(`${base.procedureId} v3 (late)`, await sender.post(life[2]!, 'xml'));
    line(`${base.procedureId} v1 resent`, await sender.post(life[0]!, 'xml'));
  }
  if (options.hostile) {
    const canary = await startEuPlatform();
    for (const { name, body, contentType } of JcaSender.hostileBodies(canary.url, options.maxBytes))
      line(name, await sender.postRaw(body, contentType));
    console.log(`external fetches the hub made: ${canary.requests.length}`);
    await canary.close();
  }
}

main().catch((error: unknown) => {
  console.error(`eu-jca sender failed: ${(error as Error).message}`);
  process.exit(1);
});
