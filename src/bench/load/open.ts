/**
 * Open loop: requests are due at a constant arrival rate whatever the target does. A request's
 * latency runs from when it was due, so a target that falls behind shows its queueing instead of
 * slowing the load down (no coordinated omission). At most `maxInFlight` are at the target; the
 * rest wait in order, and that wait counts.
 */
import type { DriverContext, LoadRun } from './driver.js';
import type { Ticket } from './gate.js';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { dueOffsetMs, now, sleep } from './timing.js';

/** setTimeout cannot wake us much more precisely than this; closer deadlines are sent now. */
const TIMER_SLACK_MS = 1;
/** When behind schedule, yield to I/O after this many sends so completions are still processed. */
const MAX_BURST = 64;

export function runOpenLoop(rate: number, maxInFlight: number, { gate, fire, rampMs }: DriverContext): LoadRun {
  const backlog: { dueMs: number; ticket: Ticket }[] = [];
  const pending = new Set<Promise<void>>();
  let inFlight = 0;

  const launch = (dueMs: number, ticket: Ticket) => {
    inFlight++;
    const promise = fire(dueMs, ticket).finally(() => {
      inFlight--;
      pending.delete(promise);
      const queued = backlog.shift();
      if (queued) launch(queued.dueMs, queued.ticket);
    });
    pending.add(promise);
  };

  const schedule = async () => {
    const startMs = now();
    let burst = 0;
    for (let k = 0; ; k++) {
      const dueMs = startMs + dueOffsetMs(k, rate, rampMs);
      const wait = dueMs - now();
      if (wait > TIMER_SLACK_MS) {
        burst = 0;
        await sleep(wait, gate.stopSignal);
      } else if (++burst >= MAX_BURST) {
        burst = 0;
        await yieldToIo();
      }
      const ticket = gate.next(dueMs);
      if (!ticket) return;
      if (inFlight < maxInFlight) launch(dueMs, ticket);
      else backlog.push({ dueMs, ticket });
    }
  };

  const drain = async () => {
    // A non-empty backlog implies requests in flight, whose completion launches it.
    while (pending.size > 0) await Promise.race(pending);
  };

  return { done: schedule().then(drain), waiting: () => backlog.length };
}
