/**
 * The circuit breaker of the partner clients (SLV's and Helsedirektoratet's): after `failureThreshold` consecutive
 * failed calls to a partner it opens and refuses calls at once for `openMs`, then lets one trial call through
 * (half-open); its success closes it, its failure opens it again.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitOpenError extends Error {
  override name = 'CircuitOpenError';
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private opened = false;
  private trialInFlight = false;

  constructor(
    private readonly failureThreshold: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (!this.opened) return 'closed';
    return this.now() - this.openedAt >= this.openMs ? 'half-open' : 'open';
  }

  /** How long until a refused call may go out (0 when closed or half-open). */
  get retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.openMs - (this.now() - this.openedAt)) : 0;
  }

  /** Throws CircuitOpenError when a call may not go out now. */
  admit(partner: string): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    const waitMs = this.retryInMs;
    throw new CircuitOpenError(
      `CIRCUIT_OPEN: ${partner} failed ${this.failures} times in a row; next trial call in ${waitMs} ms`,
    );
  }

  succeeded(): void {
    this.failures = 0;
    this.opened = false;
    this.trialInFlight = false;
  }

  failed(): void {
    this.failures++;
    if (this.trialInFlight || this.failures >= this.failureThreshold) {
      this.opened = true;
      this.openedAt = this.now();
    }
    this.trialInFlight = false;
  }
}
