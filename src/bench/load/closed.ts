/** Closed loop: N workers, each sending its next request when the previous one completes. */
import type { DriverContext, LoadRun } from './driver.js';
import { now, sleep } from './timing.js';

export function runClosedLoop(concurrency: number, { gate, fire, rampMs }: DriverContext): LoadRun {
  const worker = async (index: number) => {
    // Ramp: worker i joins at i/N of the ramp, so concurrency rises linearly.
    await sleep((rampMs * index) / concurrency, gate.stopSignal);
    for (;;) {
      const startedAt = now();
      const ticket = gate.next(startedAt);
      if (!ticket) return;
      await fire(startedAt, ticket);
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i))).then(() => undefined);
  return { done, waiting: () => 0 };
}
