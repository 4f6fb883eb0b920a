/**
 * The pieces of the bounded fronts that need no socket: fair admission (rounds, displacement, the
 * per-client cap), the delivery ledger (what counts as delivered), the descriptor budget, the
 * caller's key, the token parser and the cached metrics render.
 */
import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from '../../src/router/admission.js';
import { CallError } from '../../src/errors.js';
import { DeliveryLedger } from '../../src/mcp/delivery.js';
import { FD_RESERVE, fdBudget, openFileLimit } from '../../src/mcp/http/connections.js';
import { bearerToken, clientKeyOf } from '../../src/mcp/http/guards.js';
import { cachedRender } from '../../src/metrics.js';

/** A task that ends when told, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { task: async () => (log.push(name), await done, name), release };
}

describe('fair admission', () => {
  it('starts waiting calls in rounds: every client\'s first before anyone\'s second', async () => {
    const queue = new AdmissionQueue({ slots: 1, maxQueue: 100, maxWaitMs: 60_000 });
    const log: string[] = [];
    const blocker = gate(log, 'blocker');
    const running = queue.run(undefined, () => undefined, blocker.task, 'x');
    const calls: Array<Promise<string>> = [];
    const gates: Array<ReturnType<typeof gate>> = [];
    for (const name of ['a1', 'a2', 'a3', 'b1', 'b2', 'c1']) {
      const g = gate(log, name);
      gates.push(g);
      calls.push(queue.run(undefined, () => undefined, async () => {
        const result = g.task();
        g.release();
        return result;
      }, name[0]));
    }
    blocker.release();
    await Promise.all([running, ...calls]);
    expect(log).toEqual(['blocker', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect(queue.clients).toBe(0);
  });

  it('displaces the newest waiting call of the heaviest client when the queue is full, and only for a lighter client', async () => {
    const queue = new AdmissionQueue({ slots: 1, maxQueue: 3, maxWaitMs: 60_000 });
    const blocker = gate([], 'blocker');
    const running = queue.run(undefined, () => undefined, blocker.task, 'a');
    const waiting = [1, 2, 3].map((i) => queue.run(undefined, () => undefined, async () => `a${i}`, 'a'));
    const settled = waiting.map((p) => p.then((v) => v, (e: CallError) => e));
    // Another call of the same client finds the queue full: refused as before.
    await expect(queue.run(undefined, () => undefined, async () => 'a4', 'a')).rejects.toMatchObject({ code: 'queue_full' });
    // A call of another client takes the place of a's newest waiting call.
    const fromB = queue.run(undefined, () => undefined, async () => 'b1', 'b');
    const displaced = await settled[2];
    expect(displaced).toBeInstanceOf(CallError);
    expect((displaced as CallError).message).toMatch(/held 3 of its 3 places, so its newest waiting call made room for another client's/);
    // b holds one place now, a two: a third client may not displace anyone (a holds only one more than... none).
    blocker.release();
    expect(await Promise.all([running, fromB, settled[0], settled[1]])).toEqual(['blocker', 'b1', 'a1', 'a2']);
    expect(queue.clients).toBe(0);
  });

  it('refuses past admission.max_queued_per_client with a message naming it, and leaves calls without a client to maxQueue', async () => {
    const queue = new AdmissionQueue({ slots: 1, maxQueue: 10, maxWaitMs: 60_000, maxQueuedPerClient: 2 });
    const blocker = gate([], 'blocker');
    const running = queue.run(undefined, () => undefined, blocker.task);
    const two = [1, 2].map(() => queue.run(undefined, () => undefined, async () => 'ok', 'a'));
    await expect(queue.run(undefined, () => undefined, async () => 'no', 'a')).rejects.toThrow(/limit 2 per client, admission\.max_queued_per_client/);
    const anonymous = [1, 2, 3].map(() => queue.run(undefined, () => undefined, async () => 'anon'));
    blocker.release();
    await Promise.all([running, ...two, ...anonymous]);
    expect(queue.clients).toBe(0);
  });

  it('forgets a client whose waiting call was cancelled or timed out', async () => {
    const queue = new AdmissionQueue({ slots: 1, maxQueue: 10, maxWaitMs: 50 });
    const blocker = gate([], 'blocker');
    const running = queue.run(undefined, () => undefined, blocker.task);
    const cancel = new AbortController();
    const cancelled = queue.run(cancel.signal, () => undefined, async () => 'never', 'a');
    const timedOut = queue.run(undefined, () => undefined, async () => 'never', 'b');
    cancel.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });
    await expect(timedOut).rejects.toMatchObject({ code: 'queue_timeout' });
    expect(queue.clients).toBe(0);
    blocker.release();
    await running;
  });
});

describe('delivery ledger', () => {
  const counted = () => {
    const calls: string[] = [];
    return { calls, count: (tool: string, outcome: string) => calls.push(`${tool}:${outcome}`) };
  };

  it('counts at once when no transport reports deliveries', () => {
    const { calls, count } = counted();
    const ledger = new DeliveryLedger(count);
    ledger.begin(1);
    ledger.answered(1, 'execute', 'ok', 0);
    expect(calls).toEqual(['execute:ok']);
    expect(ledger.open).toBe(0);
  });

  it('counts a deferred call when its answer was delivered, as undelivered when it was not, and an abandoned call never as ok', () => {
    const { calls, count } = counted();
    const ledger = new DeliveryLedger(count);
    ledger.deferUntilDelivered();
    for (const id of [1, 2, 3, 4]) ledger.begin(id);
    ledger.answered(1, 'execute', 'ok', 0);
    ledger.answered(2, 'execute', 'ok', 0);
    expect(calls).toEqual([]);
    ledger.delivered(1, true);
    ledger.delivered(2, false);
    ledger.abandoned(3); // the client left while it ran
    ledger.answered(3, 'execute', 'ok', 0);
    ledger.answered(4, 'execute', 'overload', 0);
    ledger.abandoned(4); // the client left after its answer was made, before it was sent
    ledger.delivered(99, true); // not a tool call: ignored
    ledger.abandoned(98);
    expect(calls).toEqual(['execute:ok', 'execute:undelivered', 'execute:undelivered', 'execute:undelivered']);
    expect(ledger.open).toBe(0);
  });
});

describe('descriptor budget', () => {
  it('keeps the node pools and a reserve out of the client connections, and lowers a configured value that would not', () => {
    expect(fdBudget(undefined, 3 * 64, 20_000).maxConnections).toBe(4096);
    expect(fdBudget(undefined, 64, 1024).maxConnections).toBe(1024 - 64 - FD_RESERVE);
    expect(fdBudget(500, 64, 1024)).toEqual({ maxConnections: 500, reason: 'http.max_connections' });
    expect(fdBudget(5000, 64, 1024)).toMatchObject({ maxConnections: 1024 - 64 - FD_RESERVE, lowered: 5000 });
    expect(fdBudget(undefined, 64, 100).maxConnections, 'never below 16').toBe(16);
    expect(fdBudget(undefined, 0, undefined).reason).toMatch(/assumed/);
  });

  it('reads the soft limit of open files where the OS tells it', () => {
    const limit = openFileLimit();
    if (process.platform === 'linux') expect(limit).toBeGreaterThan(0);
    else expect(limit === undefined || limit > 0).toBe(true);
  });
});

describe("the caller's key", () => {
  it('reads a bearer token the way validation does, and names a peer address in one form', () => {
    for (const header of ['Bearer tok', 'bearer tok', 'BEARER  tok ', 'Bearer\ttok\t', ' bearer tok']) expect(bearerToken(header), header).toBe('tok');
    for (const header of [undefined, '', 'Basic tok', 'Bearer', 'Bearer   ', 'tok', 'Bearertok']) expect(bearerToken(header), String(header)).toBeUndefined();
    expect(clientKeyOf(undefined, '::ffff:127.0.0.1')).toBe(clientKeyOf(undefined, '127.0.0.1'));
    expect(clientKeyOf(undefined, '::1')).toBe('addr:::1');
    const digest = Buffer.alloc(32, 7);
    expect(clientKeyOf(digest, '10.0.0.1')).toBe(`token:${'07'.repeat(8)}`);
  });
});

describe('cached /metrics render', () => {
  it('renders once per interval however many ask, shares a render in progress, and retries after a failure', async () => {
    let now = 0;
    let renders = 0;
    let fail = false;
    const render = cachedRender(async () => {
      renders++;
      if (fail) throw new Error('boom');
      return `text ${renders}`;
    }, 1000, () => now);
    expect(await Promise.all([render(), render(), render()])).toEqual(['text 1', 'text 1', 'text 1']);
    now = 999;
    expect(await render()).toBe('text 1');
    now = 1000;
    fail = true;
    await expect(render()).rejects.toThrow('boom');
    fail = false;
    expect(await render()).toBe('text 3');
    expect(renders).toBe(3);
  });
});
