/**
 * The two ways a subscriber is told, and nothing else: an e-mail handed to the SMTP server (nodemailer), and a
 * signed JSON POST to a webhook through the core URL guard (checked at each send and in the connection's own
 * DNS lookup). A failure known to pass (server away, 5xx, 429, timeout) is a TransientError for the runner to
 * retry; a refusal that will not pass (policy, 4xx, a rejected recipient) is a PermanentError.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import nodemailer, { type Transporter } from 'nodemailer';
import { PermanentError, TransientError } from '../../core/bus/errors.ts';
import type { UrlGuard } from '../../core/http/urlGuard.ts';
import type { EmailMessage } from './mapping.ts';
import type { SubscriptionSettings } from './settings.ts';

export class Mailer {
  private readonly transport: Transporter | undefined;
  lastError: string | null = null;

  constructor(private readonly settings: SubscriptionSettings) {
    this.transport = settings.SMTP_HOST
      ? nodemailer.createTransport({
          host: settings.SMTP_HOST,
          port: settings.SMTP_PORT,
          secure: settings.SMTP_TLS && settings.SMTP_PORT === 465,
          requireTLS: settings.SMTP_TLS && settings.SMTP_PORT !== 465,
          ignoreTLS: !settings.SMTP_TLS,
          auth: settings.SMTP_USER ? { user: settings.SMTP_USER, pass: settings.SMTP_PASSWORD } : undefined,
          connectionTimeout: settings.SMTP_TIMEOUT_MS,
          greetingTimeout: settings.SMTP_TIMEOUT_MS,
          socketTimeout: settings.SMTP_TIMEOUT_MS,
        })
      : undefined;
  }

  get configured(): boolean {
    return this.transport !== undefined;
  }

  async send(to: string, message: EmailMessage, unsubscribeUrl: string): Promise<void> {
    if (!this.transport) throw new TransientError('SMTP_NOT_CONFIGURED: SMTP_HOST is not set');
    try {
      await this.transport.sendMail({
        from: this.settings.SMTP_FROM,
        to,
        subject: message.subject,
        text: message.text,
        messageId: message.messageId,
        list: { unsubscribe: { url: unsubscribeUrl, comment: 'Avslutt abonnementet' } },
      });
      this.lastError = null;
    } catch (error) {
      const e = error as Error & { responseCode?: number; code?: string };
      this.lastError = `${e.code ?? 'SMTP'}: ${e.message}`;
      // 5xx for the recipient will not pass; a 4xx reply or no answer will.
      if (e.responseCode && e.responseCode >= 500)
        throw new PermanentError('PARTNER_REJECTED', `SMTP_REFUSED: ${to}: ${e.message}`);
      throw new TransientError(`SMTP_UNAVAILABLE: ${settings(this.settings)}: ${e.message}`);
    }
  }

  close(): void {
    this.transport?.close();
  }
}

const settings = (s: SubscriptionSettings) => `${s.SMTP_HOST}:${s.SMTP_PORT}`;

export async function postWebhook(
  guard: UrlGuard,
  target: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  const verdict = await guard.check(target, 'webhookUrl');
  if (!verdict.ok) throw new PermanentError('PARTNER_REJECTED', `URL_REFUSED: ${verdict.reason}`);
  const send = verdict.url.protocol === 'https:' ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const request = send(
      verdict.url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(body)),
        },
        lookup: guard.lookup,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        response.resume();
        response.on('error', () => undefined);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve();
        const what = `WEBHOOK_FAILED: ${target} answered HTTP ${status}`;
        // 408 and 429 pass; other 4xx (and redirects, which are not followed) will not.
        if (status >= 500 || status === 408 || status === 429) reject(new TransientError(what));
        else reject(new PermanentError('PARTNER_REJECTED', what));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'URL_REFUSED') reject(new PermanentError('PARTNER_REJECTED', error.message));
      else reject(new TransientError(`WEBHOOK_UNAVAILABLE: ${target}: ${error.message}`));
    });
    request.end(body);
  });
}
