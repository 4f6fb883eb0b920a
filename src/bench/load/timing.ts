import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** Resolves after `ms`, or early when `signal` aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Open-loop arrival schedule: when the k-th request (from 0) is due, in ms from the start, at
 * `rate` per second, rising linearly from 0 over `rampMs` (cumulative arrivals R·t²/2T during
 * the ramp, then R·t).
 */
export function dueOffsetMs(k: number, rate: number, rampMs: number): number {
  const intervalMs = 1000 / rate;
  if (rampMs <= 0) return k * intervalMs;
  const rampCount = (rate * rampMs) / 2000;
  if (k < rampCount) return Math.sqrt((2000 * rampMs * k) / rate);
  return rampMs + (k - rampCount) * intervalMs;
}
