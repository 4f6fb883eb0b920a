/**
 * Fault injection: which requests get which fault. A fault is limited to some paths, to requests
 * whose body contains `match`, and to the next `count` matching requests, or hits each one with
 * probability `rate` (seeded PRNG), or any mix of these.
 */
import { seededRandom } from '../../util/random.js';

export type SimFaultKind =
  | { kind: 'hang' }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'reset' }
  | { kind: 'garbage' }
  | { kind: 'truncated' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'xx' }
  | { kind: 'drip'; interval_ms: number }
  | { kind: 'reflect' };

export type SimFault = SimFaultKind & {
  paths?: 'execute' | 'runtimes' | 'all';
  /** Only requests whose body (as sent) contains this text: one poison request rather than a broken node. */
  match?: string;
  count?: number;
  rate?: number;
  seed?: number;
};

/** Where in a request's life a fault strikes: on arrival, or on the answer a job produced. */
export type FaultStage = 'request' | 'result';
export type PathKind = 'execute' | 'runtimes' | 'other';

const FAULT_KINDS = new Set(['hang', 'status', 'reset', 'garbage', 'truncated', 'huge', 'xx', 'drip', 'reflect']);
const RESULT_STAGE_KINDS = new Set(['huge', 'xx', 'drip']);
/** Keeps a drip from stalling so long that it looks like a hang, or so fast that it is no drip. */
const DRIP_INTERVAL_MS = { min: 1, max: 3_600_000 };

/** Checks a fault from an untrusted source (the admin endpoint); returns an error text or null. */
export function checkFault(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'fault must be an object or null';
  const f = value as Record<string, unknown>;
  if (typeof f.kind !== 'string' || !FAULT_KINDS.has(f.kind)) return `kind must be one of ${[...FAULT_KINDS].join(', ')}`;
  if (f.kind === 'status' && (!Number.isInteger(f.status) || (f.status as number) < 100 || (f.status as number) > 599)) {
    return 'status must be an HTTP status code (100-599)';
  }
  if (f.kind === 'status' && f.body !== undefined && typeof f.body !== 'string') return 'body must be a string';
  if (f.kind === 'huge' && (!Number.isInteger(f.bytes) || (f.bytes as number) < 1)) return 'bytes must be a positive integer';
  if (f.kind === 'drip' && !(typeof f.interval_ms === 'number' && f.interval_ms >= DRIP_INTERVAL_MS.min && f.interval_ms <= DRIP_INTERVAL_MS.max)) {
    return `interval_ms must be a number of ms from ${DRIP_INTERVAL_MS.min} to ${DRIP_INTERVAL_MS.max}`;
  }
  if (f.match !== undefined && (typeof f.match !== 'string' || f.match === '')) return 'match must be a non-empty string';
  if (f.paths !== undefined && !['execute', 'runtimes', 'all'].includes(f.paths as string)) return 'paths must be execute, runtimes or all';
  if (f.count !== undefined && (!Number.isInteger(f.count) || (f.count as number) < 1)) return 'count must be a positive integer';
  if (f.rate !== undefined && (typeof f.rate !== 'number' || f.rate < 0 || f.rate > 1)) return 'rate must be a number from 0 to 1';
  if (f.seed !== undefined && !Number.isInteger(f.seed)) return 'seed must be an integer';
  return null;
}

export class FaultInjector {
  private fault: SimFault | null = null;
  private remaining = Infinity;
  private random: () => number = Math.random;

  set(fault: SimFault | null): void {
    if (fault !== null) {
      const problem = checkFault(fault);
      if (problem) throw new TypeError(`invalid fault: ${problem}`);
    }
    this.fault = fault === null ? null : { ...fault };
    this.remaining = fault?.count ?? Infinity;
    this.random = seededRandom(fault?.seed ?? 1);
  }

  current(): SimFault | null {
    return this.fault;
  }

  /** The fault this request (`body`: its text as sent) gets at this stage, if any; consumes one of `count`. */
  take(path: PathKind, stage: FaultStage, body: string): SimFault | null {
    const fault = this.fault;
    if (fault === null) return null;
    if ((stage === 'result') !== RESULT_STAGE_KINDS.has(fault.kind)) return null;
    if (fault.kind === 'xx' && path !== 'execute') return null;
    const paths = fault.paths ?? 'all';
    if (paths !== 'all' && paths !== path) return null;
    if (fault.match !== undefined && !body.includes(fault.match)) return null;
    if (fault.rate !== undefined && this.random() >= fault.rate) return null;
    this.remaining--;
    if (this.remaining <= 0) this.fault = null;
    return fault;
  }
}
