/**
 * Dataverse's service protection limits, per client: requests in a sliding window, and simultaneous
 * requests. Over either limit the Web API answers 429 with `Retry-After` (seconds) and an OData error.
 * (The third Dataverse limit, combined execution time, is not emulated.)
 */
import { errorCodes, ODataError } from './odata.ts';

export interface ServiceProtectionLimits {
  maxRequests: number;
  windowSeconds: number;
  maxConcurrentRequests: number;
}

export class ServiceProtection {
  private readonly requestTimes = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limits: () => ServiceProtectionLimits) {}

  /**
   * Admits one request of a client or throws the 429. On success the request counts as in flight until
   * the returned release function is called.
   */
  admit(clientId: string, now = Date.now()): { release: () => void; remaining: number } {
    const { maxRequests, windowSeconds, maxConcurrentRequests } = this.limits();
    const windowMs = windowSeconds * 1000;
    const times = (this.requestTimes.get(clientId) ?? []).filter((t) => t > now - windowMs);
    this.requestTimes.set(clientId, times);
    if (times.length >= maxRequests) {
      const retryAfter = Math.max(1, Math.ceil((times[0]! + windowMs - now) / 1000));
      throw new ODataError(
        429,
        errorCodes.requestsExceeded,
        `Number of requests exceeded the limit of ${maxRequests} over time window of ${windowSeconds} seconds.`,
        { 'retry-after': String(retryAfter) },
      );
    }
    const running = this.inFlight.get(clientId) ?? 0;
    if (running >= maxConcurrentRequests) {
      throw new ODataError(
        429,
        errorCodes.concurrentRequestsExceeded,
        `Number of concurrent requests exceeded the limit of ${maxConcurrentRequests}.`,
        { 'retry-after': '1' },
      );
    }
    times.push(now);
    this.inFlight.set(clientId, running + 1);
    let released = false;
    return {
      remaining: maxRequests - times.length,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight.set(clientId, Math.max(0, (this.inFlight.get(clientId) ?? 1) - 1));
      },
    };
  }

  clear(): void {
    this.requestTimes.clear();
    this.inFlight.clear();
  }
}
