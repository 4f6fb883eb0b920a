/** Fault injection: each kind, limited by paths, count and seeded rate, through the JS API and over HTTP. */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { SimNode } from '../../src/sim/index.js';
import { get, post, prints, run, startNode, waitFor } from './support.js';

describe('sim faults', () => {
  let sim: SimNode;
  afterEach(async () => {
    await sim?.close();
  });

  it('status: answers the given status and body for the next N requests, then recovers', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'status', status: 503, body: '{"message":"overloaded"}', count: 2 });
    const first = await run(sim.url, 'python', prints('1\n'));
    const second = await get(`${sim.url}/api/v2/runtimes`);
    const third = await run(sim.url, 'python', prints('1\n'));
    expect([first.status, second.status, third.status]).toEqual([503, 503, 200]);
    expect(first.text).toBe('{"message":"overloaded"}');
    expect(third.json().run.stdout).toBe('1\n');
    expect(sim.stats().faulted).toBe(2);
  });

  it('status without a body answers an empty body; paths limits which requests are hit', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'status', status: 500, paths: 'execute' });
    expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200);
    expect((await get(`${sim.url}/`)).status).toBe(200);
    const failed = await run(sim.url, 'python', prints('1\n'));
    expect(failed.status).toBe(500);
    expect(failed.text).toBe('');
    sim.setFault({ kind: 'status', status: 502, paths: 'runtimes' });
    expect((await run(sim.url, 'python', prints('1\n'))).status).toBe(200);
    expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(502);
    sim.setFault(null);
    expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200);
  });

  it('rate: hits about that share of requests, the same ones for the same seed', async () => {
    sim = await startNode({ timeScale: 0 });
    const pattern = async (seed: number): Promise<number[]> => {
      sim.setFault({ kind: 'status', status: 503, rate: 0.3, seed });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) statuses.push((await get(`${sim.url}/api/v2/runtimes`)).status);
      return statuses;
    };
    const a = await pattern(7);
    const b = await pattern(7);
    const c = await pattern(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const hit = a.filter((s) => s === 503).length;
    expect(hit).toBeGreaterThan(30);
    expect(hit).toBeLessThan(90);
    expect(a.every((s) => s === 503 || s === 200)).toBe(true);
  });

  it('hang: reads the request and never answers; close() frees it', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'hang', paths: 'execute' });
    const outcome = run(sim.url, 'python', prints('1\n')).then(
      () => 'answered',
      () => 'socket closed',
    );
    await waitFor(() => sim.stats().faulted === 1);
    const race = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300))]);
    expect(race).toBe('still waiting');
    expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200); // other paths unaffected
    await sim.close();
    expect(await outcome).toBe('socket closed');
  });

  it('reset: sends headers and part of the body, then destroys the socket', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'reset', count: 1 });
    const raw = await rawExchange(sim.port, 'GET /api/v2/runtimes HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK/);
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    const declared = Number(/content-length: (\d+)/i.exec(head)![1]);
    expect(Buffer.byteLength(body)).toBeGreaterThan(0);
    expect(Buffer.byteLength(body)).toBeLessThan(declared);
    await expect(request(`${sim.url}/api/v2/runtimes`)).resolves.toBeDefined(); // count was 1
  });

  it('garbage: 200 with a body that is not JSON', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'garbage', count: 1 });
    const answer = await run(sim.url, 'python', prints('1\n'));
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
  });

  it('truncated: 200 with JSON cut short (a complete HTTP message)', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'truncated', paths: 'runtimes', count: 1 });
    const answer = await get(`${sim.url}/api/v2/runtimes`);
    expect(answer.status).toBe(200);
    expect(answer.text.startsWith('[{"language":"c"')).toBe(true);
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
  });

  it('huge: 200 with a valid answer of about the given size', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'huge', bytes: 5_000_000, count: 2 });
    const executed = await run(sim.url, 'python', prints('hi\n'));
    expect(executed.status).toBe(200);
    expect(Buffer.byteLength(executed.text)).toBeGreaterThanOrEqual(5_000_000);
    const answer = executed.json();
    expect((answer.run.stdout as string).startsWith('hi\n')).toBe(true);
    expect(answer.run.status).toBeNull();
    const listing = await get(`${sim.url}/api/v2/runtimes`);
    expect(listing.text.length).toBeGreaterThanOrEqual(5_000_000);
    expect(JSON.parse(listing.text)).toHaveLength(4);
    expect(sim.stats().faulted).toBe(2);
  });

  it('xx: 200 with run.status "XX"; applies to execute only', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.setFault({ kind: 'xx', count: 1 });
    expect((await get(`${sim.url}/api/v2/runtimes`)).status).toBe(200);
    const answer = await run(sim.url, 'python', prints('1\n'));
    expect(answer.status).toBe(200);
    expect(answer.json().run).toMatchObject({ status: 'XX', code: null });
    expect((await run(sim.url, 'python', prints('1\n'))).json().run.status).toBeNull();
  });

  it('rejects malformed faults', async () => {
    sim = await startNode();
    expect(() => sim.setFault({ kind: 'status', status: 42 })).toThrow(/status/);
    expect(() => sim.setFault({ kind: 'huge', bytes: 0 })).toThrow(/bytes/);
    expect(() => sim.setFault({ kind: 'hang', rate: 2 })).toThrow(/rate/);
  });

  it('admin endpoint: POST/DELETE /__sim/fault, POST /__sim/latency, GET /__sim/stats', async () => {
    sim = await startNode({ timeScale: 0 });
    const set = await post(`${sim.url}/__sim/fault`, { kind: 'status', status: 502, count: 1 });
    expect(set.status).toBe(200);
    expect((await run(sim.url, 'python', prints('1\n'))).status).toBe(502);
    expect((await post(`${sim.url}/__sim/fault`, { kind: 'nope' })).status).toBe(400);
    await post(`${sim.url}/__sim/fault`, { kind: 'status', status: 503 });
    const cleared = await request(`${sim.url}/__sim/fault`, { method: 'DELETE' });
    expect(cleared.statusCode).toBe(200);
    await cleared.body.dump();
    expect((await run(sim.url, 'python', prints('1\n'))).status).toBe(200);
    expect((await post(`${sim.url}/__sim/latency`, { ms: 5 })).status).toBe(200);
    expect((await post(`${sim.url}/__sim/latency`, { ms: -5 })).status).toBe(400);
    const stats = JSON.parse((await get(`${sim.url}/__sim/stats`)).text) as { stats: Record<string, number>; latencyMs: number; name: string };
    expect(stats.latencyMs).toBe(5);
    expect(stats.name).toBe(sim.name);
    // admin requests are not counted as received Piston requests
    expect(stats.stats).toMatchObject({ received: 2, executed: 1, faulted: 1 });
  });

  it('admin endpoints can be turned off', async () => {
    sim = await startNode({ admin: false });
    const answer = await post(`${sim.url}/__sim/fault`, { kind: 'hang' });
    expect(answer.status).toBe(404);
    expect(answer.text).toBe('{"message":"Not Found"}');
  });
});

function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.connect(port, '127.0.0.1', () => socket.write(text));
  });
}
