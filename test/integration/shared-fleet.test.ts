/**
 * A fleet of pistom processes (the built CLI: HTTP replicas, and stdio processes) sharing a real
 * redis-server, in front of simulated nodes in their own processes, with SDK clients:
 *   - a node configured for max_concurrent 4 never runs more than 4 jobs at once, measured at the
 *     node, whatever the number of processes; every call is answered once, without error;
 *   - a node that crashes is out of rotation in a process that never sent it anything, with the
 *     process that ejected it and why, and back when it returns;
 *   - Redis killed under load: every call answered, the fleet falls back and comes back;
 *   - Redis unreachable at start: pistom serves with local limits and says so (log, metric, /readyz);
 *   - a process SIGKILLed while it holds every slot of a node: the others get them after the lease;
 *   - any replica answers for a task another runs, and cancels it; client limits hold fleet-wide;
 *   - rediss:// (TLS) works, and the Redis URL's password never comes out.
 * Nothing asserts how long anything takes.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, connectHttp, writeConfig, type Connected } from '../helpers/pistom.js';
import { modernRpc, rawRequest, type LooseJson } from '../helpers/raw-http.js';
import { freePort, selfSignedCertificate, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { spawnSim, type SimProcess } from '../helpers/sim-process.js';
import { HELLO, getStatus, scrape, serveHttp, serveStdio, slowProgram, waitFor, type Child, type HttpChild } from './ops-support.js';

interface SimStats {
  maxInFlight: number;
  inFlight: number;
  executed: number;
}

async function simStats(url: string): Promise<SimStats> {
  const response = await fetch(`${url}/__sim/stats`);
  return ((await response.json()) as { stats: SimStats }).stats;
}

function fleetConfig(nodes: Array<{ name: string; url: string }>, redisUrl: string | undefined, extra: Record<string, unknown> = {}): string {
  return writeConfig({
    nodes: nodes.map((node) => ({ ...node, max_concurrent: 4 })),
    admission: { max_queue: 1000, max_wait_ms: 60_000 },
    ...(redisUrl ? { shared: { redis_url: redisUrl, lease_ms: 1_000 } } : {}),
    log: { level: 'info' },
    // every scrape reads the state of the moment (the default caches /metrics for a second)
    metrics: { cache_ms: 0 },
    ...extra,
  });
}

/** Runs `calls` calls through `call`, `concurrency` at a time; returns the results (errors included). */
async function load<T>(calls: number, concurrency: number, call: () => Promise<T>): Promise<Array<T | Error>> {
  const results: Array<T | Error> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next++;
        results.push(await call().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
      }
    }),
  );
  return results;
}

const failures = (results: Array<{ isError?: boolean } | Error>) => results.filter((r) => r instanceof Error || r.isError);
const processId = (child: Child) => `${child.process.pid}@${hostname()}`;

describe('a fleet of pistom processes sharing Redis', () => {
  let redis: RedisServer;
  const children: Child[] = [];
  const clients: Connected[] = [];
  const sims: SimProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close().catch(() => undefined);
    for (const child of children.splice(0)) await child.close();
    for (const sim of sims.splice(0)) await sim.close();
    redis.thaw();
  });

  afterAll(async () => {
    await redis?.close();
  });

  async function startNodes(count: number, flags: string[]): Promise<Array<{ name: string; url: string }>> {
    const started = await Promise.all(Array.from({ length: count }, () => spawnSim({ count: 1, flags })));
    sims.push(...started);
    return started.map((sim, i) => ({ name: `node-${i + 1}`, url: sim.url }));
  }

  async function replicas(count: number, config: string, env: Record<string, string> = {}): Promise<HttpChild[]> {
    const started = await Promise.all(Array.from({ length: count }, () => serveHttp(['--config', config], env)));
    children.push(...started);
    return started;
  }

  async function client(url: string): Promise<Connected> {
    const connected = await connectHttp(url);
    clients.push(connected);
    return connected;
  }

  it('three HTTP replicas keep each node within max_concurrent, measured at the node', async () => {
    const nodes = await startNodes(3, ['--slots', '64', '--latency', '40', '--time-scale', '0']);
    const fleet = await replicas(3, fleetConfig(nodes, redis.url));
    const sdk = await Promise.all(fleet.map((replica) => client(replica.url)));
    const results = (await Promise.all(sdk.map((c) => load(36, 12, () => c.call('execute', HELLO))))).flat();
    expect(results).toHaveLength(108);
    expect(failures(results)).toEqual([]);
    const stats = await Promise.all(nodes.map((node) => simStats(node.url)));
    expect(stats.reduce((sum, s) => sum + s.executed, 0)).toBe(108);
    for (const s of stats) expect(s.maxInFlight).toBeLessThanOrEqual(4);
    const status = (await sdk[0]!.call('cluster_status', {})).structuredContent!;
    expect(status.fleet).toMatchObject({ mode: 'redis', redis: 'up', process: processId(fleet[0]!) });
    for (const node of status.nodes) expect(typeof node.fleet_slots_held).toBe('number');
    const metrics = await scrape(fleet[1]!.url);
    expect(metrics.value('pistom_shared_redis_up')).toBe(1);
    expect(metrics.series('pistom_fleet_slots_held').map((labels) => labels.node).sort()).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('three stdio processes keep each node within max_concurrent too', async () => {
    const nodes = await startNodes(3, ['--slots', '64', '--latency', '40', '--time-scale', '0']);
    const config = fleetConfig(nodes, undefined);
    const processes = await Promise.all([0, 1, 2].map(() => serveStdio(['--config', config], { PISTOM_REDIS_URL: redis.url })));
    children.push(...processes);
    const results = (await Promise.all(processes.map((p) => load(36, 12, () => p.call('execute', HELLO))))).flat();
    expect(results).toHaveLength(108);
    expect(failures(results)).toEqual([]);
    for (const node of nodes) expect((await simStats(node.url)).maxInFlight).toBeLessThanOrEqual(4);
    const status = (await processes[0]!.call('cluster_status', {})).structuredContent!;
    expect(status.fleet.mode).toBe('redis');
  });

  it("a node that crashes under one replica's load is out of rotation in an idle replica, with who and why, and back when it returns", async () => {
    const nodes = await startNodes(3, ['--slots', '64', '--latency', '20', '--time-scale', '0']);
    // The idle replica checks health once a minute: what it knows of the crash comes from the fleet.
    const config = fleetConfig(nodes, redis.url, { health: { interval_ms: 60_000 }, breaker: { reset_timeout_ms: 1_000 } });
    const [busy, idle] = await replicas(2, config);
    const busyClient = await client(busy!.url);
    const idleClient = await client(idle!.url);
    await waitFor(async () => (await getStatus(`${idle!.url}/readyz`)).status === 200, 'the idle replica to be ready');
    let stop = false;
    const results: Array<{ isError?: boolean } | Error> = [];
    const workers = Array.from({ length: 6 }, async () => {
      while (!stop) results.push(await busyClient.call('execute', HELLO).catch((error: Error) => error));
    });
    await waitFor(() => results.length > 30, 'load to run');
    const restart = await fetch(`${nodes[1]!.url}/__sim/restart`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ downMs: 3_000 }) });
    expect(restart.status).toBeLessThan(300);
    const ejected = await waitFor(async () => {
      const status = (await idleClient.call('cluster_status', {})).structuredContent!;
      return status.nodes.find((node: { name: string; ejected?: unknown }) => node.name === 'node-2' && node.ejected)?.ejected;
    }, 'the idle replica to see node-2 out of rotation');
    expect(ejected).toMatchObject({ by: processId(busy!) });
    expect(['breaker_open', 'unhealthy', 'unresponsive']).toContain(ejected.reason);
    const metrics = await scrape(idle!.url);
    expect(metrics.series('pistom_fleet_node_ejected')).toContainEqual(expect.objectContaining({ node: 'node-2', by: processId(busy!) }));
    // The node comes back: the busy replica's breaker lets a call through, it closes, and the verdict is withdrawn.
    await waitFor(async () => {
      const status = (await idleClient.call('cluster_status', {})).structuredContent!;
      return !status.nodes.find((node: { name: string }) => node.name === 'node-2').ejected;
    }, 'node-2 back in rotation on the idle replica');
    stop = true;
    await Promise.all(workers);
    expect(failures(results)).toEqual([]);
  });

  it('Redis killed under load: every call answered, local limits meanwhile, fleet limits again once it is back', async () => {
    const nodes = await startNodes(2, ['--slots', '64', '--latency', '20', '--time-scale', '0']);
    const fleet = await replicas(2, fleetConfig(nodes, redis.url));
    const sdk = await Promise.all(fleet.map((replica) => client(replica.url)));
    let stop = false;
    let sent = 0;
    const results: Array<{ isError?: boolean } | Error> = [];
    const workers = sdk.flatMap((c) =>
      Array.from({ length: 6 }, async () => {
        while (!stop) {
          sent++;
          results.push(await c.call('execute', HELLO).catch((error: Error) => error));
        }
      }),
    );
    await waitFor(() => results.length > 40, 'load to run');
    await redis.kill();
    for (const replica of fleet) {
      const body = await waitFor(async () => {
        const answer = await getStatus(`${replica.url}/readyz`);
        return (answer.body as { shared?: { mode: string } }).shared?.mode === 'local' ? answer : undefined;
      }, 'the replica to fall back');
      expect(body.status).toBe(200);
    }
    const during = results.length;
    await waitFor(() => results.length > during + 40, 'calls answered while Redis is away');
    await redis.restart();
    for (const replica of fleet) {
      await waitFor(async () => ((await getStatus(`${replica.url}/readyz`)).body as { shared?: { mode: string } }).shared?.mode === 'redis', 'the replica to use Redis again');
    }
    const after = results.length;
    await waitFor(() => results.length > after + 40, 'calls answered after Redis came back');
    stop = true;
    await Promise.all(workers);
    expect(results).toHaveLength(sent);
    expect(failures(results)).toEqual([]);
    expect((await scrape(fleet[0]!.url)).value('pistom_shared_local_acquires_total')).toBeGreaterThan(0);
    expect(fleet[0]!.stderr()).toContain('Redis is unreachable');
  });

  it('Redis frozen (slow) under load: calls stay bounded, fall back, and come back when it answers', async () => {
    const nodes = await startNodes(2, ['--slots', '64', '--latency', '20', '--time-scale', '0']);
    const fleet = await replicas(2, fleetConfig(nodes, redis.url));
    const sdk = await Promise.all(fleet.map((replica) => client(replica.url)));
    let stop = false;
    const results: Array<{ isError?: boolean } | Error> = [];
    const workers = sdk.flatMap((c) =>
      Array.from({ length: 4 }, async () => {
        while (!stop) results.push(await c.call('execute', HELLO).catch((error: Error) => error));
      }),
    );
    await waitFor(() => results.length > 20, 'load to run');
    redis.freeze();
    for (const replica of fleet) {
      await waitFor(async () => ((await getStatus(`${replica.url}/readyz`)).body as { shared?: { mode: string } }).shared?.mode === 'local', 'the replica to stop waiting on Redis');
    }
    const during = results.length;
    await waitFor(() => results.length > during + 20, 'calls answered while Redis is frozen');
    redis.thaw();
    for (const replica of fleet) {
      await waitFor(async () => ((await getStatus(`${replica.url}/readyz`)).body as { shared?: { mode: string } }).shared?.mode === 'redis', 'the replica to use Redis again');
    }
    stop = true;
    await Promise.all(workers);
    expect(failures(results)).toEqual([]);
  });

  it('a SIGTERM while start-up waits for Redis stops pistom cleanly (exit 0, no stack, a log line)', async () => {
    const nodes = await startNodes(1, ['--time-scale', '0']);
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0', '--config', fleetConfig(nodes, `redis://127.0.0.1:${port}`)], { env: { PATH: process.env.PATH ?? '', PISTOM_LOG_LEVEL: 'info' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Redis refuses at once; start-up then waits for it to come back before it listens.
      await waitFor(() => stderr.includes('Redis is unreachable: serving with local limits'), 'Redis judged down during start-up');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('"signal":"SIGTERM","msg":"stopped before serving: a signal arrived while waiting for Redis"');
      expect(stderr).not.toContain('Redis is unreachable at start');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('Redis unreachable at start: serves with local limits, and says so in the log, a metric and /readyz', async () => {
    const nodes = await startNodes(1, ['--time-scale', '0']);
    const port = await freePort();
    const [replica] = await replicas(1, fleetConfig(nodes, `redis://127.0.0.1:${port}`));
    expect(replica!.stderr()).toContain('Redis is unreachable at start');
    // Ready (it can serve) once its first health round is done, Redis or not.
    const ready = await waitFor(async () => {
      const answer = await getStatus(`${replica!.url}/readyz`);
      return answer.status === 200 ? answer : undefined;
    }, 'the replica to be ready');
    expect(ready.body).toMatchObject({ shared: { mode: 'local', local_limit: 'max_concurrent per process' } });
    expect((await scrape(replica!.url)).value('pistom_shared_redis_up')).toBe(0);
    const sdk = await client(replica!.url);
    expect((await sdk.call('execute', HELLO)).isError).toBeFalsy();
    const late = await startRedis({ port });
    try {
      await waitFor(async () => ((await getStatus(`${replica!.url}/readyz`)).body as { shared?: { mode: string } }).shared?.mode === 'redis', 'the replica to find Redis');
      expect((await scrape(replica!.url)).value('pistom_shared_redis_up')).toBe(1);
    } finally {
      await late.close();
    }
  });

  it("a process SIGKILLed while it holds every slot of a node: the others get them once its lease runs out", async () => {
    const nodes = await startNodes(1, ['--slots', '64']);
    const config = fleetConfig(nodes, redis.url);
    const [doomed, survivor] = await replicas(2, config);
    const doomedClient = await client(doomed!.url);
    // Four long calls take all four slots of the node.
    const held = Array.from({ length: 4 }, () => doomedClient.call('execute', slowProgram(30_000)).catch(() => undefined));
    await waitFor(async () => (await simStats(nodes[0]!.url)).maxInFlight >= 4, 'the doomed replica to hold every slot');
    doomed!.signal('SIGKILL');
    await doomed!.exited;
    void held;
    const survivorClient = await client(survivor!.url);
    const result = await survivorClient.call('execute', HELLO);
    expect(result.isError).toBeFalsy();
    const status = (await survivorClient.call('cluster_status', {})).structuredContent!;
    expect(status.nodes[0].fleet_slots_held).toBeLessThanOrEqual(4);
  });

  it('any replica answers for a task another replica runs, and a cancel on one stops the run on the other', async () => {
    const nodes = await startNodes(1, []);
    const token = 'fleet-task-token-0123456789abcdef';
    const [runner, other] = await replicas(2, fleetConfig(nodes, redis.url, { http: { auth_tokens: [token] }, tasks: { poll_interval_ms: 50 } }));
    const send = async (replica: HttpChild, method: string, params: Record<string, unknown>): Promise<LooseJson> => {
      const request = modernRpc(method, params, 1, { extensions: { 'io.modelcontextprotocol/tasks': {} } });
      return (await rawRequest(`${replica.url}/mcp`, { headers: { ...request.headers, authorization: `Bearer ${token}` }, body: request.body })).json();
    };
    const started = await send(runner!, 'tools/call', { name: 'execute', arguments: slowProgram(200) });
    expect(started.result).toMatchObject({ resultType: 'task', status: 'working' });
    const done = await waitFor(async () => {
      const answer = await send(other!, 'tasks/get', { taskId: started.result.taskId });
      return answer.result?.status === 'completed' ? answer.result : undefined;
    }, 'the other replica to see the task completed');
    expect(done.result.structuredContent.run.stdout).toBe('done\n');
    // A long run on the runner, cancelled through the other replica.
    const long = await send(runner!, 'tools/call', { name: 'execute', arguments: slowProgram(30_000) });
    await waitFor(async () => (await simStats(nodes[0]!.url)).inFlight === 1, 'the long run to start');
    const cancelled = await send(other!, 'tasks/cancel', { taskId: long.result.taskId });
    expect(cancelled.error).toBeUndefined();
    expect((await send(runner!, 'tasks/get', { taskId: long.result.taskId })).result.status).toBe('cancelled');
    await waitFor(async () => (await simStats(nodes[0]!.url)).inFlight === 0, 'the Piston attempt on the runner to stop');
  });

  it("holds a client's rate limit across replicas", async () => {
    const nodes = await startNodes(1, ['--time-scale', '0']);
    const token = 'fleet-rate-token-0123456789abcdef';
    const fleet = await replicas(2, fleetConfig(nodes, redis.url, { http: { auth_tokens: [token], rate_limit: { per_second: 1, burst: 3 } } }));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const request = modernRpc('tools/list', {});
      statuses.push((await rawRequest(`${fleet[i % 2]!.url}/mcp`, { headers: { ...request.headers, authorization: `Bearer ${token}` }, body: request.body })).status);
    }
    // Three per three seconds for the whole fleet (without Redis it would be three per replica).
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(4);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(4);
  });

  it('connects to Redis over TLS with a rediss:// URL', async () => {
    const tls = selfSignedCertificate();
    if (!tls) throw new Error('openssl is needed to make a test certificate (apt-get install openssl; .ci/run does)');
    const secure = await startRedis({ tls });
    try {
      expect(secure.url.startsWith('rediss://')).toBe(true);
      const nodes = await startNodes(1, ['--time-scale', '0']);
      // Node's trust store plus the test's own CA, as an operator would with a private CA.
      const [replica] = await replicas(1, fleetConfig(nodes, secure.url), { NODE_EXTRA_CA_CERTS: tls.cert });
      await waitFor(async () => ((await getStatus(`${replica!.url}/readyz`)).body as { shared?: { mode: string } }).shared?.mode === 'redis', 'the replica to reach Redis over TLS');
      const sdk = await client(replica!.url);
      expect((await sdk.call('execute', HELLO)).isError).toBeFalsy();
      expect((await sdk.call('cluster_status', {})).structuredContent!.fleet).toMatchObject({ mode: 'redis', redis: 'up' });
    } finally {
      await secure.close();
    }
  });

  it("never shows the Redis URL's password: not in logs, status, metrics or /readyz", async () => {
    const password = 'redis-PASSWORD-3b9f7e21';
    const locked = await startRedis({ password });
    try {
      const nodes = await startNodes(1, ['--time-scale', '0']);
      const [good] = await replicas(1, fleetConfig(nodes, locked.url), { PISTOM_LOG_LEVEL: 'debug' });
      const wrong = `redis://:wrong-${password}@127.0.0.1:${locked.port}`;
      const [bad] = await replicas(1, fleetConfig(nodes, wrong), { PISTOM_LOG_LEVEL: 'debug' });
      for (const replica of [good!, bad!]) {
        const sdk = await client(replica.url);
        const status = await sdk.call('cluster_status', {});
        const texts = [replica.stderr(), JSON.stringify(status), (await scrape(replica.url)).text, JSON.stringify((await getStatus(`${replica.url}/readyz`)).body)];
        for (const text of texts) expect(text).not.toContain(password);
      }
      expect((await getStatus(`${good!.url}/readyz`)).body).toMatchObject({ shared: { mode: 'redis' } });
      // The reason shown is Redis's own (a refused password), not just a closed connection.
      expect((await getStatus(`${bad!.url}/readyz`)).body).toMatchObject({ shared: { mode: 'local', reason: expect.stringMatching(/^WRONGPASS .*the user or password in the URL is wrong/) } });
      expect(bad!.stderr()).toMatch(/"why":"WRONGPASS /);
    } finally {
      await locked.close();
    }
  });
});
