/**
 * The decision table, row by row: the copy in docs/architecture.md is the one in the code, and the
 * code does what each row says — the dispatcher's accounting in the host view, and the retry
 * policy's next step.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { HostDispatcher, type NodeClient } from '../../src/cluster/dispatcher.js';
import { Host } from '../../src/cluster/host.js';
import { StallClock } from '../../src/cluster/liveness.js';
import { DECISIONS, decide, outcomeKey, type AttemptOutcome, type FaultReason, type NodeFault, type OutcomeKey } from '../../src/piston/outcome.js';
import { nextStep } from '../../src/router/retry-policy.js';

const RESULT = {
  language: 'python',
  version: '3.11.2',
  run: { stdout: '', stderr: '', output: '', code: 0, signal: null, message: null, status: null, cpu_time: 1, wall_time: 1, memory: 1 },
};

function nodeFault(reason: FaultReason, extra: Partial<NodeFault> = {}): NodeFault {
  return { class: 'node_fault', reason, sent: !['connect', 'closed', 'breaker_open'].includes(reason), message: `node n had ${reason}`, ...extra };
}

/** One outcome for every row of the table. */
const SAMPLES: Record<OutcomeKey, AttemptOutcome> = {
  program_outcome: { class: 'program_outcome', result: RESULT },
  request_error: { class: 'request_error', code: 'rejected_by_node', message: 'run_timeout cannot exceed the configured limit of 3000', status: 400 },
  'request_error/unknown_runtime': { class: 'request_error', code: 'unknown_runtime', message: 'python-3.11.2 runtime is unknown', status: 400 },
  'node_fault/connect': nodeFault('connect'),
  'node_fault/closed': nodeFault('closed'),
  'node_fault/breaker_open': nodeFault('breaker_open'),
  'node_fault/overloaded': nodeFault('overloaded', { status: 503 }),
  'node_fault/misconfigured': nodeFault('misconfigured', { status: 404 }),
  'node_fault/timeout': nodeFault('timeout'),
  'node_fault/unresponsive': nodeFault('unresponsive'),
  'node_fault/status': nodeFault('status', { status: 502 }),
  'node_fault/reset': nodeFault('reset'),
  'node_fault/garbage': nodeFault('garbage'),
  'node_fault/status_500': nodeFault('status', { status: 500 }),
  'node_fault/too_large': nodeFault('too_large'),
  'node_fault/sandbox': nodeFault('sandbox', { detail: 'Cannot set /sys/fs/cgroup/memory/isolate/box-1/memory.limit_in_bytes to 3072' }),
  cancelled: { class: 'cancelled', message: 'the call was cancelled' },
};

const config = parseConfig({ nodes: [{ name: 'n', url: 'http://n.test:2000' }] });

function dispatcherAnswering(outcome: AttemptOutcome): HostDispatcher {
  const host = new Host(config.nodes[0]!, { breaker: config.breaker, processId: 'test' });
  const client: NodeClient = { baseUrl: 'http://n.test:2000/api/v2', execute: async () => outcome, runtimes: async () => ({ ok: true, runtimes: [] }), close: async () => {} };
  return new HostDispatcher(host, client, { suspectWindowMs: 10_000, stallClock: new StallClock({ minMs: 60_000, maxMs: 60_000 }), onStall: () => {} });
}

function documentedTable(): Array<{ key: string; accounting: string; retry: string; same: string; refresh: string }> {
  const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
  const table = doc.split('<!-- decision-table:start -->')[1]!.split('<!-- decision-table:end -->')[0]!;
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [key, accounting, retry, same, refresh] = line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, ''));
      return { key: key!, accounting: accounting!, retry: retry!, same: same!, refresh: refresh! };
    });
}

describe('the decision table', () => {
  it('docs/architecture.md shows exactly the table the code uses', () => {
    const fromCode = Object.entries(DECISIONS).map(([key, d]) => ({ key, accounting: d.accounting, retry: d.retry, same: d.sameNodeAgain ? 'yes' : 'no', refresh: d.refreshCatalog ? 'yes' : 'no' }));
    expect(documentedTable()).toEqual(fromCode);
  });

  it('has a sample for every row, and each sample is classified into its own row', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(DECISIONS).sort());
    for (const [key, outcome] of Object.entries(SAMPLES)) expect(outcomeKey(outcome)).toBe(key);
  });

  describe.each(Object.keys(DECISIONS) as OutcomeKey[])('%s', (key) => {
    const decision = DECISIONS[key];
    const outcome = SAMPLES[key];

    it(`the dispatcher accounts it as "${decision.accounting}" in the host view`, async () => {
      const dispatcher = dispatcherAnswering(outcome);
      const host = dispatcher.host;
      const result = await dispatcher.execute({ body: '{}', fingerprint: () => 'f', timeoutMs: 1000, signal: new AbortController().signal });
      expect(result.outcome).toBe(outcome);
      const window = host.breaker.window();
      switch (decision.accounting) {
        case 'success':
          expect(window).toEqual({ successes: 1, failures: 0 });
          expect(host.completed).toBe(1);
          break;
        case 'neutral':
          expect(window).toEqual({ successes: 0, failures: 0 });
          expect(host.faults).toBe(0);
          break;
        case 'fault':
          expect(window).toEqual({ successes: 0, failures: 1 });
          expect(host.faults).toBe(1);
          break;
        case 'eject':
          expect(window).toEqual({ successes: 0, failures: 0 });
          expect(host.ejection?.reason).toBe('misconfigured');
          expect(host.available).toBe(false);
          break;
        case 'suspect':
          // charged to nobody until its verdict is known ...
          expect(window).toEqual({ successes: 0, failures: 0 });
          expect(result.verdict).toBeDefined();
          // ... then charged if another node served the same request
          result.verdict!.confirm();
          expect(host.breaker.window()).toEqual({ successes: 0, failures: 1 });
          break;
      }
      if (decision.accounting !== 'suspect') expect(result.verdict).toBeUndefined();
      await dispatcher.close();
    });

    it(`the retry policy follows "${decision.retry}"`, () => {
      const state = { attempts: 1, maxAttempts: 3, retryAfterSend: true, suspectElsewhere: false };
      const step = nextStep(outcome, state);
      const noAfterSend = nextStep(outcome, { ...state, retryAfterSend: false });
      switch (decision.retry) {
        case 'never':
          expect(step.kind).not.toBe('retry');
          break;
        case 'other_node':
          expect(step).toMatchObject({ kind: 'retry', refreshCatalog: false });
          expect(noAfterSend.kind).toBe('retry');
          break;
        case 'other_node_if_after_send':
          expect(step).toMatchObject({ kind: 'retry', refreshCatalog: false });
          expect(noAfterSend.kind).toBe('stop');
          break;
        case 'other_node_after_catalog_refresh':
          expect(step).toMatchObject({ kind: 'retry', refreshCatalog: true });
          break;
      }
      if (step.kind === 'retry' && key !== 'node_fault/breaker_open') expect(nextStep(outcome, { ...state, attempts: 3 }).kind).toBe('stop');
      // a suspect fault that another node gave for the same request makes the request poisoned
      expect(nextStep(outcome, { ...state, suspectElsewhere: true }).kind === 'poisoned').toBe(decision.accounting === 'suspect');
      expect(decide(outcome)).toBe(decision);
    });
  });
});
