/** The router's public shapes: a call's context and report, progress updates, metric hooks. */
import type { CallErrorClass } from '../errors.js';
import type { Logger } from '../log.js';

export interface ProgressUpdate {
  stage: 'queued' | 'running' | 'heartbeat' | 'retrying';
  message: string;
  node?: string;
  position?: number;
}

export interface CallContext {
  signal?: AbortSignal;
  onProgress?: (update: ProgressUpdate) => void;
  requestId?: string;
  logger?: Logger;
  /** Who asked (the front's client key): calls of one client get a fair share of the queue. */
  client?: string;
}

export interface CallReport {
  outcome: 'ok' | CallErrorClass;
  code?: string;
  node?: string;
  attempts: number;
  queuedMs: number;
  totalMs: number;
}

/** An attempt's outcome as metrics label it: its class, with breaker refusals apart. */
export type AttemptLabel = 'ok' | 'request_error' | 'node_fault' | 'breaker_open' | 'cancelled';

export interface RouterHooks {
  callFinished?(report: CallReport): void;
  attemptFinished?(node: string, outcome: AttemptLabel, ms: number, reason?: string): void;
  retried?(from: string, reason: string): void;
  /** A request found poisoned: it failed the same way on two nodes. */
  poisoned?(nodes: string[]): void;
}
