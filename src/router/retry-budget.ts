/**
 * A retry budget (as in Finagle and Envoy): retries may add at most `ratio` of the recent call
 * volume, plus a small floor per second, so that a sick cluster is not hammered by retry storms.
 * Counts live in one-second buckets over a ten-second window.
 */
const WINDOW_SECONDS = 10;

export class RetryBudget {
  private readonly calls = new Array<number>(WINDOW_SECONDS).fill(0);
  private readonly retries = new Array<number>(WINDOW_SECONDS).fill(0);
  private currentSecond = 0;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  private rotate(): number {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.currentSecond) {
      const gap = Math.min(WINDOW_SECONDS, Math.max(0, second - this.currentSecond));
      for (let i = 1; i <= gap; i++) {
        const slot = (this.currentSecond + i) % WINDOW_SECONDS;
        this.calls[slot] = 0;
        this.retries[slot] = 0;
      }
      this.currentSecond = second;
    }
    return second % WINDOW_SECONDS;
  }

  recordCall(): void {
    this.calls[this.rotate()]!++;
  }

  /** Takes one retry from the budget if there is one left. */
  tryRetry(): boolean {
    const slot = this.rotate();
    const calls = this.calls.reduce((a, b) => a + b, 0);
    const retries = this.retries.reduce((a, b) => a + b, 0);
    const allowed = this.minPerSecond * WINDOW_SECONDS + this.ratio * calls;
    if (retries >= allowed) return false;
    this.retries[slot]!++;
    return true;
  }
}
