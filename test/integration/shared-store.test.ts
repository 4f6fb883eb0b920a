/**
 * The shared store's parts against a real redis-server (started on a free loopback port by the
 * test, no mock), several "processes" each with a connection of its own: leased node slots,
 * lease expiry of a process that vanishes, the fallback to local limits and the way back, verdicts
 * on nodes, one runtime-list fetch for the fleet, tasks across replicas, fleet-wide client limits.
 * Nothing here asserts how long anything takes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../src/config/schema.js';
import type { FleetEjection } from '../../src/cluster/host.js';
import { silentLogger } from '../../src/log.js';
import { FleetCatalog } from '../../src/shared/catalog.js';
import { FleetClientLimit, clientWindow } from '../../src/shared/client-limits.js';
import { SharedConnection } from '../../src/shared/connection.js';
import { SharedKeys } from '../../src/shared/keys.js';
import { LocalSlots } from '../../src/shared/local-slots.js';
import { FleetSlots, fixedWindow } from '../../src/shared/slots.js';
import { RedisTaskStore } from '../../src/shared/task-store.js';
import { FleetVerdicts } from '../../src/shared/verdicts.js';
import type { TaskRecord } from '../../src/mcp/tasks/store.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from './ops-support.js';

const node = (name: string, max: number, extra: Partial<NodeConfig> = {}): NodeConfig => ({ name, url: 'http://127.0.0.1:1', max_concurrent: max, headers: {}, weight: 1, tier: 0, caps: {} as NodeConfig['caps'], ...extra });

describe('the shared store on a real Redis', () => {
  let redis: RedisServer;
  const opened: Array<{ close(): unknown }> = [];
  let prefixCount = 0;
  let keys: SharedKeys;

  const connect = async (name: string, commandTimeoutMs = 500) => {
    const connection = new SharedConnection({ url: redis.url, commandTimeoutMs, name, logger: silentLogger(), probeIntervalMs: 100 });
    opened.push(connection);
    expect(await connection.waitUntilUp(5_000)).toBe(true);
    return connection;
  };
  const slotsFor = (connection: SharedConnection, leaseMs = 5_000, expected = 1, events: { fallbacks?: string[] } = {}) => {
    const slots = new FleetSlots({ connection, keys, leaseMs, local: new LocalSlots(expected), logger: silentLogger(), processId: connection.client.options.connectionName ?? 'test', onFallback: (n) => events.fallbacks?.push(n) });
    opened.push(slots);
    return slots;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterEach(async () => {
    for (const part of opened.splice(0).reverse()) await part.close();
    keys = new SharedKeys(`t${++prefixCount}:`);
  });

  afterAll(async () => {
    await redis?.close();
  });

  keys = new SharedKeys('t0:');

  it('holds a node to max_concurrent across three processes, every acquire served', async () => {
    const processes = await Promise.all([0, 1, 2].map(async (i) => slotsFor(await connect(`p${i}`))));
    const target = node('n1', 4);
    let running = 0;
    let most = 0;
    let served = 0;
    const signal = new AbortController().signal;
    await Promise.all(
      processes.flatMap((slots) =>
        Array.from({ length: 6 }, async () => {
          for (let round = 0; round < 8; round++) {
            const lease = await slots.acquire(target, signal);
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            running--;
            served++;
            lease.release();
          }
        }),
      ),
    );
    expect(served).toBe(3 * 6 * 8);
    expect(most).toBe(4);
  });

  it('gives a vanished process its slots back once its lease runs out', async () => {
    const doomed = await connect('doomed');
    const survivor = slotsFor(await connect('survivor'), 600);
    const target = node('n2', 2);
    const held = slotsFor(doomed, 600);
    const signal = new AbortController().signal;
    await held.acquire(target, signal);
    await held.acquire(target, signal);
    // The process dies: nothing is released, nothing is renewed.
    held.close();
    doomed.client.disconnect();
    doomed.subscriber.disconnect();
    const lease = await survivor.acquire(target, AbortSignal.timeout(30_000));
    expect(lease).toBeDefined();
    lease.release();
  });

  it('renews the slots it holds, so a long job keeps its slot past the lease', async () => {
    const holder = slotsFor(await connect('holder'), 600);
    const other = slotsFor(await connect('other'), 600);
    const target = node('n3', 1);
    const lease = await holder.acquire(target, new AbortController().signal);
    // Three leases long: a renewal must have kept it, so the other process must still wait.
    const waiting = other.acquire(target, AbortSignal.timeout(1_800)).then(
      () => 'acquired',
      () => 'still held',
    );
    expect(await waiting).toBe('still held');
    lease.release();
    const next = await other.acquire(target, AbortSignal.timeout(30_000));
    next.release();
  });

  it("holds a node's rate_limit across processes", async () => {
    const processes = await Promise.all([0, 1].map(async (i) => slotsFor(await connect(`r${i}`))));
    const target = node('n-rate', 10, { rate_limit: { requests: 3, interval_ms: 10_000 } });
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        try {
          const lease = await processes[i % 2]!.acquire(target, AbortSignal.timeout(1_000));
          lease.release();
          return 'sent';
        } catch {
          return 'held back';
        }
      }),
    );
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(3);
  });

  it('cancels a waiting acquire with its signal, and the slot goes to the next caller', async () => {
    const slots = slotsFor(await connect('p'));
    const target = node('n4', 1);
    const first = await slots.acquire(target, new AbortController().signal);
    const controller = new AbortController();
    const cancelled = slots.acquire(target, controller.signal);
    const third = slots.acquire(target, new AbortController().signal);
    controller.abort(new Error('gave up'));
    await expect(cancelled).rejects.toThrow('gave up');
    first.release();
    (await third).release();
  });

  it('falls back to local limits when Redis dies, and goes back to Redis when it returns', async () => {
    const fallbacks: string[] = [];
    const connection = await connect('p', 300);
    const slots = slotsFor(connection, 5_000, 2, { fallbacks });
    const target = node('n5', 4);
    const signal = new AbortController().signal;
    (await slots.acquire(target, signal)).release();
    expect(fallbacks).toEqual([]);
    await redis.kill();
    // Local share with 2 expected processes: 2 of 4.
    const a = await slots.acquire(target, signal);
    const b = await slots.acquire(target, signal);
    const third = slots.acquire(target, AbortSignal.timeout(300)).then(
      () => 'acquired',
      () => 'waited',
    );
    expect(await third).toBe('waited');
    expect(fallbacks.length).toBeGreaterThan(0);
    expect(connection.up).toBe(false);
    a.release();
    b.release();
    await redis.restart();
    await waitFor(() => connection.up, 'the connection to come back');
    const before = fallbacks.length;
    const leases = [];
    for (let i = 0; i < 4; i++) leases.push(await slots.acquire(target, signal));
    expect(fallbacks.length).toBe(before);
    for (const lease of leases) lease.release();
  });

  it('subscribes once Redis comes up, even when it was unreachable at start', async () => {
    const { freePort } = await import('../helpers/redis-server.js');
    const port = await freePort();
    const connection = new SharedConnection({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300, name: 'early', logger: silentLogger(), probeIntervalMs: 100 });
    opened.push(connection);
    const messages: string[] = [];
    connection.subscribe('early:channel', (message) => messages.push(message));
    expect(await connection.waitUntilUp(500)).toBe(false);
    const late = await startRedis({ port });
    try {
      await waitFor(() => connection.up, 'the connection to come up');
      const publisher = new SharedConnection({ url: late.url, commandTimeoutMs: 500, name: 'publisher', logger: silentLogger() });
      opened.push(publisher);
      expect(await publisher.waitUntilUp(5_000)).toBe(true);
      await waitFor(async () => {
        await publisher.client.publish('early:channel', 'hello');
        return messages.includes('hello');
      }, 'the early subscription to receive');
    } finally {
      await connection.close();
      await late.close();
    }
  });

  it('announces verdicts to the other processes, with who and why, and withdraws them', async () => {
    const seen = new Map<string, FleetEjection[]>();
    const mine = new FleetVerdicts({ connection: await connect('a'), keys, processId: 'a@host', logger: silentLogger(), apply: () => undefined, syncMs: 200 });
    const theirs = new FleetVerdicts({ connection: await connect('b'), keys, processId: 'b@host', logger: silentLogger(), apply: (n, verdicts) => seen.set(n, verdicts), syncMs: 200 });
    opened.push(mine, theirs);
    mine.announce('n6', { reason: 'unresponsive', detail: 'liveness probe failed' });
    const verdicts = await waitFor(() => (seen.get('n6')?.length ? seen.get('n6') : undefined), 'the verdict to arrive');
    expect(verdicts[0]).toMatchObject({ reason: 'unresponsive', detail: 'liveness probe failed', by: 'a@host' });
    expect(verdicts[0]!.until).toBeGreaterThan(Date.now());
    mine.announce('n6', undefined);
    await waitFor(() => seen.get('n6')?.length === 0, 'the withdrawal to arrive');
    // The readable record: a process that starts later reads standing verdicts.
    mine.announce('n7', { reason: 'breaker_open', detail: 'connect refused', untilMs: Date.now() + 60_000 });
    const late = new Map<string, FleetEjection[]>();
    const newcomer = new FleetVerdicts({ connection: await connect('c'), keys, processId: 'c@host', logger: silentLogger(), apply: (n, v) => late.set(n, v), syncMs: 200 });
    opened.push(newcomer);
    await waitFor(() => late.get('n7')?.length, 'the newcomer to read the record');
    expect(late.get('n7')![0]).toMatchObject({ reason: 'breaker_open', by: 'a@host' });
  });

  it('fetches a runtime list once for the fleet', async () => {
    let fetches = 0;
    const list = [{ language: 'python', version: '3.12.0', aliases: ['py'] }];
    const fetch = async () => {
      fetches++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return list;
    };
    const catalogs = await Promise.all([0, 1, 2].map(async (i) => new FleetCatalog({ connection: await connect(`c${i}`), keys, ttlMs: 60_000, fetchTimeoutMs: 5_000, maxRuntimes: 100 })));
    const lists = await Promise.all(catalogs.map((catalog) => catalog.load('n8', 60_000, fetch)));
    expect(lists).toEqual([list, list, list]);
    expect(fetches).toBe(1);
    // A forced refresh wants a list younger than what is stored: fetched again, once.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await catalogs[1]!.load('n8', 10, fetch);
    expect(fetches).toBe(2);
  });

  it('keeps tasks where every replica reads them, results byte for byte, cancellation to the runner', async () => {
    const a = new RedisTaskStore({ connection: await connect('ta'), keys, maxTasks: 2, logger: silentLogger() });
    const b = new RedisTaskStore({ connection: await connect('tb'), keys, maxTasks: 2, logger: silentLogger() });
    opened.push(a, b);
    const now = Date.now();
    const record = (id: string): TaskRecord => ({ taskId: id, status: 'working', createdAt: new Date(now).toISOString(), lastUpdatedAt: new Date(now).toISOString(), ttlMs: 60_000, expiresAt: now + 60_000, owner: 'token:ab' });
    expect(await a.create(record('t1'))).toBe(true);
    expect(await b.get('t1')).toMatchObject({ taskId: 't1', status: 'working', owner: 'token:ab' });
    const result = { content: [], structuredContent: { run: { stdout: 'x', code: 0 }, big: 1234567890123456, ratio: 0.1, empty: {} } };
    await a.settle('t1', { status: 'completed', result });
    expect((await b.get('t1'))!.result).toEqual(result);
    // A second settle (a cancel that came late) leaves the first outcome.
    await b.requestCancel('t1', 'too late');
    expect((await a.get('t1'))!.status).toBe('completed');
    // Cancellation reaches the replica that runs the task.
    const cancelled: string[] = [];
    a.onCancelRequested((id) => cancelled.push(id));
    expect(await a.create(record('t2'))).toBe(true);
    await b.requestCancel('t2', 'cancelled by the client');
    await waitFor(() => cancelled.includes('t2'), 'the cancellation to reach replica a');
    expect((await a.get('t2'))!.status).toBe('cancelled');
    // max_tasks holds for the fleet: the oldest settled task makes room, working ones never do.
    expect(await b.create(record('t3'))).toBe(true);
    expect(await a.get('t1')).toBeUndefined();
    expect(await a.create(record('t4'))).toBe(true);
    expect(await a.create(record('t5'))).toBe(false);
  });

  it('keeps a result that Redis could not take, answers for it, and writes it when Redis is back (even empty)', async () => {
    const a = new RedisTaskStore({ connection: await connect('ka', 300), keys, maxTasks: 10, logger: silentLogger() });
    const b = new RedisTaskStore({ connection: await connect('kb', 300), keys, maxTasks: 10, logger: silentLogger() });
    opened.push(a, b);
    const now = Date.now();
    const record: TaskRecord = { taskId: 'kept', status: 'working', createdAt: new Date(now).toISOString(), lastUpdatedAt: new Date(now).toISOString(), ttlMs: 60_000, expiresAt: now + 60_000 };
    expect(await a.create(record)).toBe(true);
    await redis.kill();
    const result = { content: [{ type: 'text', text: 'ran while Redis was away' }] };
    expect(await a.settle('kept', { status: 'completed', result })).toMatchObject({ status: 'completed', result });
    expect(await a.get('kept')).toMatchObject({ status: 'completed', result });
    await expect(b.get('kept')).rejects.toThrow('unreachable');
    await redis.restart();
    const seen = await waitFor(async () => {
      const found = await b.get('kept').catch(() => undefined);
      return found?.status === 'completed' ? found : undefined;
    }, 'the kept result to reach Redis');
    expect(seen.result).toEqual(result);
  });

  it('keeps a per-client limit across replicas', async () => {
    const limits = await Promise.all([0, 1].map(async (i) => new FleetClientLimit({ connection: await connect(`l${i}`), keys, perSecond: 1, burst: 3 })));
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await limits[i % 2]!.take('token:same'));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    expect(decisions.at(-1)).toMatchObject({ allowed: false });
    expect((await limits[0]!.take('token:other')).allowed).toBe(true);
  });

  it('maps rates onto whole-second windows', () => {
    expect(fixedWindow(5, 1000)).toEqual({ points: 5, duration: 1 });
    expect(fixedWindow(5, 500)).toEqual({ points: 10, duration: 1 });
    expect(fixedWindow(3, 2500)).toEqual({ points: 4, duration: 3 });
    expect(clientWindow(5, 10)).toEqual({ points: 10, duration: 2 });
    expect(clientWindow(20, 10)).toEqual({ points: 20, duration: 1 });
  });
});
