import type { LoadGate, Ticket } from './gate.js';

/** Sends one request and records it; `dueMs` is when it should have started (latency runs from there). */
export type Fire = (dueMs: number, ticket: Ticket) => Promise<void>;

export interface LoadRun {
  /** Resolves when the driver has stopped and every request it sent has completed. */
  done: Promise<void>;
  /** Requests that are due but wait for an in-flight slot (open loop only). */
  waiting(): number;
}

export interface DriverContext {
  gate: LoadGate;
  fire: Fire;
  rampMs: number;
}
