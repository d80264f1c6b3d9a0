/**
 * The stand-in EU sender: posts JCA traffic to a hub's /jca/v1/intake as the EU side would, one
 * procedure's life at a time (scoping, PICO scope, dossier, report, update), in JSON or XML, with resends
 * and milestones out of order, and, on request, malformed and hostile documents.
 */
import type { JcaDocument, Milestone } from '../../../adapters/eu-jca/notification.ts';
import { hostile, jcaDocument, toXml } from './documents.ts';

export type Format = 'json' | 'xml';

export interface SentNotification {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

export class JcaSender {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string | null,
  ) {}

  /** Posts raw text with a content type; answers the status and parsed body. */
  async postRaw(
    body: string,
    contentType: string,
    token: string | null = this.token,
  ): Promise<SentNotification> {
    const started = performance.now();
    const headers: Record<string, string> = { 'content-type': contentType };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.baseUrl}/jca/v1/intake`, { method: 'POST', headers, body });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed, ms: performance.now() - started };
  }

  post(doc: JcaDocument, format: Format = 'json', token?: string | null): Promise<SentNotification> {
    return format === 'json'
      ? this.postRaw(JSON.stringify(doc), 'application/json', token)
      : this.postRaw(toXml(doc), 'application/xml; charset=utf-8', token);
  }

  /**
   * One procedure's notifications, version 1 upward, following the regulation's milestones with the
   * dates each would carry. `upTo` stops after that milestone.
   */
  static lifeOf(base: JcaDocument, upTo: Milestone = 'REPORT_PUBLISHED'): JcaDocument[] {
    const steps: [Milestone, string, JcaDocument['dates']][] = [
      ['SCOPING_STARTED', '2025-03-03', { scopingStartedOn: '2025-03-03' }],
      ['PICO_SCOPE_AGREED', '2025-05-20', { scopeAgreedOn: '2025-05-20', dossierDueOn: '2025-09-01' }],
      ['DOSSIER_SUBMITTED', '2025-08-28', { dossierSubmittedOn: '2025-08-28' }],
      [
        'REPORT_PUBLISHED',
        '2026-01-15',
        { marketingAuthorisationOn: '2025-12-18', reportPublishedOn: '2026-01-15' },
      ],
      ['UPDATED', '2026-06-01', {}],
    ];
    const docs: JcaDocument[] = [];
    let dates = { ...base.dates };
    for (const [index, [milestone, on, more]] of steps.entries()) {
      dates = { ...dates, ...more };
      docs.push({ ...base, procedureVersion: index + 1, milestone, milestoneOn: on, dates: { ...dates } });
      if (milestone === upTo) break;
    }
    return docs;
  }

  /** Posts a whole procedure's life in order; answers each reply. */
  async sendLife(
    base: JcaDocument = jcaDocument(),
    upTo: Milestone = 'REPORT_PUBLISHED',
    format: Format = 'json',
  ) {
    const replies: SentNotification[] = [];
    for (const doc of JcaSender.lifeOf(base, upTo)) replies.push(await this.post(doc, format));
    return replies;
  }

  /** Every hostile or broken body, named, with its content type. */
  static hostileBodies(
    canaryUrl: string,
    maxBytes: number,
  ): { name: string; body: string; contentType: string }[] {
    return [
      { name: 'XXE file', body: hostile.xxeFile(), contentType: 'application/xml' },
      { name: 'XXE http', body: hostile.xxeHttp(canaryUrl), contentType: 'application/xml' },
      { name: 'XXE parameter entity', body: hostile.xxeParameter(canaryUrl), contentType: 'text/xml' },
      { name: 'billion laughs', body: hostile.billionLaughs(), contentType: 'application/xml' },
      { name: 'quadratic blow-up', body: hostile.quadraticBlowup(), contentType: 'application/xml' },
      { name: 'lower-case doctype', body: hostile.sneakyDoctype(), contentType: 'application/xml' },
      { name: 'malformed XML', body: hostile.malformedXml(), contentType: 'application/xml' },
      { name: 'deep XML', body: hostile.deepXml(), contentType: 'application/xml' },
      { name: 'malformed JSON', body: hostile.malformedJson(), contentType: 'application/json' },
      { name: 'deep JSON', body: hostile.deepJson(), contentType: 'application/json' },
      { name: 'oversized JSON', body: hostile.oversizedJson(maxBytes), contentType: 'application/json' },
      {
        name: 'unknown version',
        body: JSON.stringify(hostile.unknownVersion()),
        contentType: 'application/json',
      },
    ];
  }
}
