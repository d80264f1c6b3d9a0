/**
 * Helsedirektoratet's notification endpoint: one JSON notification per HTTP POST, with an
 * `Idempotency-Key` header (the same key for every attempt of one notification). 2xx is delivered;
 * 408, 425, 429, 5xx and network failures are transient (the caller retries with backoff); any other
 * 4xx means the notification can never be taken and goes to the dead-letter topic with the answer.
 * After `circuitFailures` transient failures in a row the circuit opens (core/retry/circuitBreaker.ts, as SLV's
 * client): for `circuitOpenMs` no request goes out and the notifier waits that long, then one trial goes.
 */
import { PermanentError, RetryLater, retryAfterMs } from '../../core/bus/errors.ts';
import { type PartnerAnswer, partnerRequest } from '../../core/http/partnerRequest.ts';
import { CircuitBreaker, CircuitOpenError, type CircuitState } from '../../core/retry/circuitBreaker.ts';
import { notificationsSent } from './monitoring.ts';

export interface ClientSettings {
  url: string;
  token: string;
  timeoutMs: number;
  circuitFailures: number;
  circuitOpenMs: number;
}

// A longer Retry-After is cut to five minutes: later notifications in the partition wait behind this one.
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Helsedirektoratet did not take it now; `retryAfterMs` is what its Retry-After asked for (0 if nothing). */
export class HdirUnavailable extends RetryLater {
  override name = 'HdirUnavailable';
}

export interface DeliveryOutcome {
  status: number;
  duplicate: boolean;
}

export class HdirClient {
  delivered = 0;
  failures = 0;
  lastError: string | undefined;
  lastDeliveredAt: string | undefined;
  private readonly breaker: CircuitBreaker;

  constructor(private readonly settings: ClientSettings) {
    this.breaker = new CircuitBreaker(settings.circuitFailures, settings.circuitOpenMs);
  }

  get circuit(): CircuitState {
    return this.breaker.state;
  }

  async deliver(notification: unknown, idempotencyKey: string): Promise<DeliveryOutcome> {
    try {
      this.breaker.admit('Helsedirektoratet');
    } catch (error) {
      if (!(error instanceof CircuitOpenError)) throw error;
      // Not sent, so not a failure of its own: the notifier waits until the trial call may go.
      throw new HdirUnavailable(error.message, this.breaker.retryInMs);
    }
    let response: PartnerAnswer;
    try {
      response = await partnerRequest(this.settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
          ...(this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {}),
        },
        body: JSON.stringify(notification),
        timeoutMs: this.settings.timeoutMs,
      });
    } catch (error) {
      throw this.failed(
        `Helsedirektoratet did not answer at ${this.settings.url}: ${(error as Error).message}`,
      );
    }
    const { text } = response;
    if (response.status >= 200 && response.status < 300) {
      let duplicate = false;
      try {
        duplicate = text ? (JSON.parse(text) as { duplicate?: boolean }).duplicate === true : false;
      } catch {
        // an answer that is not JSON is still a delivery
      }
      this.delivered++;
      this.breaker.succeeded();
      this.lastError = undefined;
      this.lastDeliveredAt = new Date().toISOString();
      notificationsSent.inc({ outcome: duplicate ? 'duplicate' : 'delivered' });
      return { status: response.status, duplicate };
    }
    const answer = `${response.status} ${text.slice(0, 300)}`.trim();
    if ([408, 425, 429].includes(response.status) || response.status >= 500)
      throw this.failed(
        `Helsedirektoratet answered ${answer}`,
        retryAfterMs(response.header('retry-after'), MAX_RETRY_AFTER_MS),
      );
    // It answered: the partner is up, whatever it thought of this one.
    this.breaker.succeeded();
    notificationsSent.inc({ outcome: 'rejected' });
    throw new PermanentError(
      'PARTNER_REJECTED',
      `Helsedirektoratet refused notification ${idempotencyKey}: ${answer}`,
    );
  }

  private failed(reason: string, waitMs = 0): HdirUnavailable {
    this.failures++;
    this.breaker.failed();
    this.lastError = reason;
    notificationsSent.inc({ outcome: 'failed' });
    return new HdirUnavailable(reason, waitMs);
  }
}
